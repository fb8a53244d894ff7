/**
 * Approvals carried from one appliance to another. Two appliances share their officers, a key label
 * ("treasury") and a policy version; an EVM request id is the unsigned transaction, without `from`. Alice and
 * Bob approve a 5 ETH payment from A's treasury; the coordinator presents the same approval files to B with
 * the same transaction "from" B's treasury. The approvals are genuine (A signs with them); B refuses them:
 * an approval's signed message binds the appliance (its audit public key) and the signing keys' public keys,
 * which the checking appliance supplies itself (docs/policy.md, Approvals).
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliHome } from '../../support/cli.js';
import {
  createApplianceHome,
  createSiblingHome,
  officerPassphrase,
  type ApplianceHome,
} from '../../support/appliance-home.js';

const PAYEE = '0x1111111111111111111111111111111111111111';

let a: ApplianceHome;
let b: CliHome;

const policy = {
  version: 1,
  rules: [
    {
      id: 'payments',
      chain: 'evm',
      chainIds: [1],
      keys: ['treasury'],
      kinds: ['transfer'],
      destinations: [{ address: PAYEE, label: 'Supplier' }],
      maxAmount: '10',
      maxFee: '0.1',
      approvals: 2,
    },
  ],
};

function addressOf(run: (args: string[]) => { json<T>(): T }): string {
  return run(['keys', 'list', '--json'])
    .json<{ keys: { label: string; address: string }[] }>()
    .keys.find((k) => k.label === 'treasury')!.address;
}

const tx = (from: string) => ({
  type: 'transaction',
  from,
  chainId: 1,
  txType: 2,
  nonce: 3,
  to: PAYEE,
  value: '5000000000000000000',
  gasLimit: '21000',
  maxFeePerGas: '30000000000',
  maxPriorityFeePerGas: '1000000000',
});

beforeAll(() => {
  a = createApplianceHome({ keys: [{ chain: 'evm', label: 'treasury' }], policy: () => policy });
  // B's own policy, signed by the officers for B (the same fleet policy, version 1).
  b = createSiblingHome(a, [{ chain: 'evm', label: 'treasury' }], policy).cli;
});
afterAll(() => {
  a?.cleanup();
  b?.cleanup();
});

describe('approvals given on appliance A, presented on appliance B', () => {
  it('count on A, and are refused on B for the same transaction from B’s key', () => {
    const fromA = addressOf((args) => a.run(args));
    const fromB = addressOf((args) => b.run(args));
    expect(fromA.toLowerCase()).not.toBe(fromB.toLowerCase());

    const reqA = a.file('req-a.json');
    writeFileSync(reqA, JSON.stringify(tx(fromA)));
    for (const officer of ['alice', 'bob']) {
      const r = a.run(
        ['approve', reqA, '--key', a.file(`${officer}.pem`), '--out', a.file(`${officer}-approval.json`)],
        { COLDSIGN_PASSPHRASE: officerPassphrase(officer) },
      );
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
    const approvals = [
      '--approval',
      a.file('alice-approval.json'),
      '--approval',
      a.file('bob-approval.json'),
    ];

    const reqB = `${b.dir}/req-b.json`;
    writeFileSync(reqB, JSON.stringify(tx(fromB)));
    const onB = b.run(['sign', reqB, ...approvals, '--out', `${b.dir}/signed.out`, '--json']);
    expect(onB.code, onB.stdout + onB.stderr).toBe(3);
    expect(onB.stdout).toMatch(/APPROVAL_INVALID/);
    expect(onB.stdout).toMatch(/another appliance/);

    // The same approvals are genuine where they were made.
    const onA = a.run(['sign', reqA, ...approvals, '--out', a.file('signed-a.out'), '--json']);
    expect(onA.code, onA.stdout + onA.stderr).toBe(0);
    expect(onA.json<{ policy: { approvals: string[] } }>().policy.approvals.sort()).toEqual(['alice', 'bob']);
  });
});
