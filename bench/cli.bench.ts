/**
 * The CLI as a whole process (issue: pipeline and CLI). In one run, against one embedded home:
 * bare `node -e ''` start-up and `coldsign --help` start-up; `coldsign sign` on a 1-input and a 500-input
 * PSBT and on an EIP-1559 transaction; raw HSM signing of the same number of digests in-process.
 */
import './thread-pool.js';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Hsm } from '../hsm/index.js';
import { findSoftHsmModule, useSoftHsmHome } from '../hsm/softhsm.js';
import { makeBenchHome } from './cli-home.js';
import { fmt, medianOf, ROOT, writeSection } from './support.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const loadBefore = loadavg()[0]!;
const { dir, home, PIN, btcKey, psbt1, psbt500, evmTx, run } = makeBenchHome(join(ROOT, 'bin', 'coldsign'));

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
