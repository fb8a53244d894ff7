/** A ready home for the home*.test.ts files: officers alice and bob (quorum 2), an EVM key, a signed policy. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { auditKeyFromInit, createCliHome, type CliHome } from '../support/cli.js';

export const PASS = { alice: 'alice-passphrase', bob: 'bob-passphrase' } as const;
export const OPS = '0x1111111111111111111111111111111111111111';

export interface ReadyHome {
  cli: CliHome;
  file(name: string): string;
  ethAddress: string;
  /** The appliance's audit public key, as `init` printed it (what its policies name as `appliance`). */
  auditPublicKey: string;
  pubkeys: Record<keyof typeof PASS, string>;
}

export function errorCode(stdout: string): string {
  return (JSON.parse(stdout) as { error: { code: string } }).error.code;
}

/** The eth-ops policy; `appliance` (an audit public key) names the appliance it is signed for. */
export function policyDoc(version: number, approvals = 0, appliance?: string) {
  return {
    version,
    ...(appliance === undefined ? {} : { appliance }),
    rules: [
      {
        id: 'eth-ops',
        chain: 'evm',
        chainIds: [1],
        kinds: ['transfer'],
        destinations: [{ address: OPS, label: 'Ops' }],
        maxAmount: '1',
        maxFee: '0.01',
        approvals,
      },
    ],
  };
}

/** An EIP-1559 transfer request document of `wei` to OPS (the JSON request format of the README). */
export function transferRequest(from: string, wei: string, nonce: number): Record<string, unknown> {
  return {
    type: 'transaction',
    from,
    txType: 2,
    chainId: 1,
    nonce,
    to: OPS,
    value: wei,
    data: '0x',
    gasLimit: 21000,
    maxFeePerGas: '30000000000',
    maxPriorityFeePerGas: '1000000000',
  };
}

export function signPolicyFile(home: ReadyHome, path: string): void {
  for (const officer of ['alice', 'bob'] as const) {
    const signed = home.cli.run(['policy', 'sign', path, '--key', home.file(`${officer}.pem`)], {
      COLDSIGN_PASSPHRASE: PASS[officer],
    });
    expect(signed.code, signed.stderr).toBe(0);
  }
}

/** Creates the home through the real CLI; `approvals` is what the eth-ops rule requires. */
export function createReadyHome(options: { approvals?: number; cli?: CliHome } = {}): ReadyHome {
  const cli = options.cli ?? createCliHome();
  const file = (name: string) => join(cli.dir, name);
  const pubkeys = {} as Record<keyof typeof PASS, string>;
  for (const officer of ['alice', 'bob'] as const) {
    const keygen = cli.run(['officer', 'keygen', officer, '--out', file(`${officer}.pem`)], {
      COLDSIGN_PASSPHRASE: PASS[officer],
    });
    expect(keygen.code, keygen.stderr).toBe(0);
    pubkeys[officer] = keygen.stdout.trim().split('\n').at(-1)!;
  }
  const init = cli.run(['init', '--officer', `alice=${pubkeys.alice}`, '--officer', `bob=${pubkeys.bob}`]);
  expect(init.code, init.stderr).toBe(0);
  const generated = cli.run(['keys', 'generate', '--chain', 'evm', '--label', 'vault-eth', '--json']);
  expect(generated.code, generated.stderr).toBe(0);
  const keys = cli
    .run(['keys', 'list', '--json'])
    .json<{ keys: Array<{ label: string; address: string }> }>();
  const home: ReadyHome = {
    cli,
    file,
    pubkeys,
    ethAddress: keys.keys.find((k) => k.label === 'vault-eth')!.address,
    auditPublicKey: auditKeyFromInit(init.stdout),
  };
  expect(home.auditPublicKey, init.stdout).not.toBe('');
  writeFileSync(
    file('policy.json'),
    JSON.stringify(policyDoc(1, options.approvals ?? 0, home.auditPublicKey)),
  );
  signPolicyFile(home, file('policy.json'));
  const applied = cli.run(['policy', 'apply', file('policy.json')]);
  expect(applied.code, applied.stderr).toBe(0);
  return home;
}
