/**
 * The CLI as a whole process (issue: pipeline and CLI). In one run, against one embedded home:
 * bare `node -e ''` start-up and `coldsign --help` start-up; `coldsign sign` on a 1-input and a 500-input
 * PSBT and on an EIP-1559 transaction; raw HSM signing of the same number of digests in-process.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as bitcoin from 'bitcoinjs-lib';
import { Hsm } from '../hsm/index.js';
import { findSoftHsmModule, useSoftHsmHome } from '../hsm/softhsm.js';
import { buildPsbt } from '../scripts/demo/coordinator.js';
import { fmt, medianOf, ROOT, writeSection } from './support.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const loadBefore = loadavg()[0]!;
const dir = mkdtempSync(join(tmpdir(), 'coldsign-bench-cli-'));
const home = join(dir, 'home');
const PIN = 'bench-pin-1234';
const env = {
  ...process.env,
  COLDSIGN_HOME: home,
  COLDSIGN_PIN: PIN,
  COLDSIGN_PASSPHRASE: 'bench-passphrase',
};
const BIN = join(ROOT, 'bin', 'coldsign');

function run(args: string[], expect = 0): string {
  const result = spawnSync(process.execPath, [BIN, ...args], {
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
writeFileSync(
  policy,
  JSON.stringify({
    version: 1,
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
const psbt500 = join(dir, 'five-hundred.psbt');
writeFileSync(
  psbt500,
  buildPsbt(
    btcKey.address,
    payTo,
    100_000n,
    50_000n,
    Array.from({ length: 500 }, () => 10_000n),
  ),
);
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

const bare = await medianOf(RUNS, () => spawnSync(process.execPath, ['-e', '']));
const help = await medianOf(RUNS, () => run(['--help']));
const sign1 = await medianOf(RUNS, () => run(['sign', psbt1, '--out', join(dir, 'one.out'), '--force']));
const sign500 = await medianOf(RUNS, () => run(['sign', psbt500, '--out', join(dir, '500.out'), '--force']));
const signEvm = await medianOf(RUNS, () => run(['sign', evmTx, '--out', join(dir, 'evm.out'), '--force']));

// Raw HSM signing of the same numbers of digests, in-process, on the same token and key.
useSoftHsmHome(home);
const hsm = Hsm.open({ module: findSoftHsmModule(), token: 'coldsign' }, PIN);
const rawSigning = async (n: number) => {
  const digests = Array.from({ length: n }, () => new Uint8Array(randomBytes(32)));
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < digests.length) await hsm.signer.signRaw(btcKey.keyId, digests[next++]!);
    }),
  );
};
const raw1 = await medianOf(RUNS, () => rawSigning(1));
const raw500 = await medianOf(RUNS, () => rawSigning(500));
hsm.close();
rmSync(dir, { recursive: true, force: true });

const startup = help - bare;
// The profile breakdown below the figures (measured by hand with bench/cli-profile.ts) is kept across runs.
const doc = join(ROOT, 'docs', 'bench', 'cli.md');
const KEPT = '\n## Where the time of a 1-input sign goes';
const previous = existsSync(doc) ? readFileSync(doc, 'utf8') : '';
const kept = previous.includes(KEPT) ? previous.slice(previous.indexOf(KEPT)) : '';
writeSection(
  'cli',
  'The CLI as a process',
  `
Load average (1 min) ${fmt(loadBefore, 1)} at the start, ${fmt(loadavg()[0]!, 1)} at the end: compare ratios, not times, across runs.
Median of ${RUNS} runs each; every \`coldsign sign\` is a whole process: start-up, PIN login, audit start-up
check (pinned checkpoint and state compared with the HSM, not the whole chain), review, policy, signing in
the HSM, verification, audit entries, output written. A sign writes the HSM pin three times (begin, the open
checkpoint of \`signing.started\`, the closing checkpoint; docs/audit.md), each a new anchor key in the HSM;
the begin is generated off the event loop while the request is reviewed. The bundle is minified (whitespace and
syntax) and carries zod's English messages only (scripts/bundle.mjs).

| what | time | compared with |
|---|---|---|
| \`node -e ''\` (baseline) | ${fmt(bare, 0)} ms | — |
| \`coldsign --help\` | ${fmt(help, 0)} ms | ${fmt(startup, 0)} ms beyond bare Node (goal < 500 ms) |
| raw HSM signing, 1 digest, in-process | ${fmt(raw1, 1)} ms | — |
| raw HSM signing, 500 digests, in-process | ${fmt(raw500, 0)} ms | — |
| \`coldsign sign\` 1-input PSBT | ${fmt(sign1, 0)} ms | ${fmt(sign1 / (raw1 + help))}x raw signing + start-up |
| \`coldsign sign\` 500-input PSBT | ${fmt(sign500, 0)} ms | ${fmt(sign500 / (raw500 + help))}x raw signing + start-up (goal < 2x) |
| \`coldsign sign\` EIP-1559 ETH transfer | ${fmt(signEvm, 0)} ms | ${fmt(signEvm / (raw1 + help))}x raw signing + start-up |
`,
);
if (kept) appendFileSync(doc, kept);
