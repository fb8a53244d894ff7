/**
 * The home every CLI benchmark runs on (bench/cli.bench.ts, bench/cli-ab.ts): an embedded SoftHSM2 home with a
 * BTC and an EVM key, an applied policy that lets the requests below through, a 1-input and a 500-input PSBT
 * and an EIP-1559 transfer. Built with the coldsign launcher `bin`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as bitcoin from 'bitcoinjs-lib';
import { buildPsbt } from '../scripts/demo/coordinator.js';

export interface BenchHome {
  dir: string;
  home: string;
  PIN: string;
  env: NodeJS.ProcessEnv;
  btcKey: { label: string; address: string; keyId: string; publicKey: string };
  psbt1: string;
  psbt500: string;
  /** A 500-input PSBT spending coins no other `tag` spends (each round of a benchmark signs coins of its own). */
  freshPsbt500: (tag: number) => string;
  evmTx: string;
  /** Runs `node bin ...args` on the home; throws unless it exits with `expect`. */
  run: (args: string[], expect?: number, launcher?: string) => string;
}

export function makeBenchHome(BIN: string): BenchHome {
  const dir = mkdtempSync(join(tmpdir(), 'coldsign-bench-cli-'));
  const home = join(dir, 'home');
  const PIN = 'bench-pin-1234';
  const env = {
    ...process.env,
    COLDSIGN_HOME: home,
    COLDSIGN_PIN: PIN,
    COLDSIGN_PASSPHRASE: 'bench-passphrase',
  };

  function run(args: string[], expect = 0, launcher = BIN): string {
    const result = spawnSync(process.execPath, [launcher, ...args], {
      env,
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    if (result.status !== expect)
      throw new Error(`coldsign ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
    return result.stdout;
  }

  const officerKey = run(['officer', 'keygen', 'bench', '--out', join(dir, 'bench.pem')])
    .trim()
    .split('\n')
    .at(-1)!;
  run(['init', '--officer', `bench=${officerKey}`, '--quorum', '1']);
  run(['keys', 'generate', '--chain', 'btc', '--label', 'vault-btc']);
  run(['keys', 'generate', '--chain', 'evm', '--label', 'vault-eth']);
  const keys = JSON.parse(run(['keys', 'list', '--json'])).keys as Array<{
    label: string;
    address: string;
    keyId: string;
    publicKey: string;
  }>;
  const btcKey = keys.find((k) => k.label === 'vault-btc')!;
  const ethKey = keys.find((k) => k.label === 'vault-eth')!;
  const policy = join(dir, 'policy.json');
  const { appliance } = JSON.parse(run(['policy', 'show', '--json'])) as { appliance: string };
  writeFileSync(
    policy,
    JSON.stringify({
      version: 1,
      appliance,
      rules: [
        {
          id: 'btc-any',
          chain: 'btc',
          network: 'mainnet',
          anyDestination: true,
          maxAmount: '100000',
          // the 500-input request pays 0.0005 BTC in fees: above the default 5% limit of a rule without a cap
          maxFee: '0.001',
          approvals: 0,
        },
        {
          id: 'evm-any',
          chain: 'evm',
          chainIds: [1],
          anyDestination: true,
          allowBlind: true,
          maxAmount: '1000',
          approvals: 0,
        },
      ],
    }),
  );
  run(['policy', 'sign', policy, '--key', join(dir, 'bench.pem')]);
  run(['policy', 'apply', policy]);

  const payTo = bitcoin.payments.p2wpkh({
    pubkey: Buffer.from('0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798', 'hex'),
  }).address!;
  const psbt1 = join(dir, 'one.psbt');
  writeFileSync(psbt1, buildPsbt(btcKey.address, payTo, 100_000n, 1_000n, [500_000n]));
  // The funding transactions are derived from the amounts, so other amounts are other coins.
  const freshPsbt500 = (tag: number): string => {
    const file = join(dir, `five-hundred-${tag}.psbt`);
    const coins = Array.from({ length: 500 }, () => 10_000n + BigInt(tag));
    writeFileSync(file, buildPsbt(btcKey.address, payTo, 100_000n, 50_000n, coins));
    return file;
  };
  const psbt500 = freshPsbt500(0);
  const evmTx = join(dir, 'eip1559.json');
  writeFileSync(
    evmTx,
    JSON.stringify({
      type: 'transaction',
      from: ethKey.address,
      txType: 2,
      chainId: 1,
      nonce: 0,
      to: '0x2222222222222222222222222222222222222222',
      value: '100000000000000000',
      gasLimit: 21000,
      maxFeePerGas: '30000000000',
      maxPriorityFeePerGas: '1000000000',
    }),
  );
  return { dir, home, PIN, env, btcKey, psbt1, psbt500, freshPsbt500, evmTx, run };
}
