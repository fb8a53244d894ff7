/**
 * The CLI as a whole process (issue: pipeline and CLI). In one run, against one embedded home:
 * bare `node -e ''` start-up and `coldsign --help` start-up; `coldsign sign` on a 1-input PSBT, a 500-input PSBT of
 * new coins each round and one of the same coins every round, and an EIP-1559 transaction; raw HSM signing of the
 * same number of digests in-process.
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
import { fmt, inFlight, percentile, ROOT, timeIt, writeSection } from './support.js';

// Eleven rounds: at five, one slow `--help` or raw round moved every ratio by a tenth on this shared host.
const RUNS = Number(process.env.BENCH_RUNS ?? 11);
const loadBefore = loadavg()[0]!;
const { dir, home, PIN, btcKey, psbt1, psbt500, freshPsbt500, evmTx, run } = makeBenchHome(
  join(ROOT, 'bin', 'coldsign'),
);

// Interleaved rounds: each round runs every process once and then the raw signing in-process, so a machine that
// slows down or speeds up during the run moves the commands and their baseline alike (the ratios below).
useSoftHsmHome(home);
/** Raw HSM signing of `n` digests on the same token and key, 8 in flight; the HSM is opened per round, untimed. */
const rawSigning = async (n: number): Promise<number> => {
  const hsm = Hsm.open({ module: findSoftHsmModule(), token: 'coldsign' }, PIN);
  try {
    const digests = Array.from({ length: n }, () => new Uint8Array(randomBytes(32)));
    return await timeIt(() => inFlight(digests, 8, (digest) => hsm.signer.signRaw(btcKey.keyId, digest)));
  } finally {
    hsm.close();
  }
};
let round500 = 0;
const cases = {
  bare: () => timeIt(() => spawnSync(process.execPath, ['-e', ''])),
  help: () => timeIt(() => run(['--help'])),
  sign1: () => timeIt(() => run(['sign', psbt1, '--out', join(dir, 'one.out'), '--force'])),
  // Each round's 500 coins are its own (tag = round + 1), as a custody home signs its coins: the outpoint ledger grows
  // by 500 rows a round, and each decision finds no earlier signature of its coins.
  sign500: () => {
    const coins = freshPsbt500(++round500);
    return timeIt(() => run(['sign', coins, '--out', join(dir, '500.out'), '--force']));
  },
  // The same 500 coins signed again every round: each decision reads one more earlier signature per coin.
  sign500Again: () => timeIt(() => run(['sign', psbt500, '--out', join(dir, '500.out'), '--force'])),
  signEvm: () => timeIt(() => run(['sign', evmTx, '--out', join(dir, 'evm.out'), '--force'])),
  raw1: () => rawSigning(1),
  raw500: () => rawSigning(500),
};
type Case = keyof typeof cases;
const samples = new Map<Case, number[]>();
for (let round = 0; round < RUNS; round++)
  for (const [name, measure] of Object.entries(cases) as [Case, () => Promise<number>][])
    samples.set(name, [...(samples.get(name) ?? []), await measure()]);
const median = (name: Case) => percentile(samples.get(name)!, 50);
const bare = median('bare');
const help = median('help');
const sign1 = median('sign1');
const sign500 = median('sign500');
const sign500Again = median('sign500Again');
const signEvm = median('signEvm');
const raw1 = median('raw1');
const raw500 = median('raw500');
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
Median of ${RUNS} interleaved rounds (each runs every command once, then the raw signing in-process); every
\`coldsign sign\` is a whole process: start-up, PIN login, audit start-up check (pinned checkpoint and state
compared with the HSM, not the whole chain), review, policy, signing in the HSM, verification, audit entries,
output written. The 500-input PSBT of each round spends coins of its own (as a custody home signs its coins once),
so every decision walks the outpoint ledger's buckets of 500 coins it has not signed; the row after it signs one
PSBT again every round, so each decision also reads every earlier signature of its coins (a stress case: a fee bump
re-signs coins, rarely more than a few times). A sign writes the HSM pin three times (begin, the open
checkpoint of \`signing.started\`, the closing checkpoint; docs/audit.md), each a new anchor key in the HSM;
the begin is generated off the event loop while the request is reviewed. The bundle is one CommonJS script that
starts from the V8 code cache the build trained (docs/cli-startup.md), minified (whitespace and syntax), with zod's
English messages only (scripts/bundle.mjs).

| what | time | compared with |
|---|---|---|
| \`node -e ''\` (baseline) | ${fmt(bare, 0)} ms | — |
| \`coldsign --help\` | ${fmt(help, 0)} ms | ${fmt(startup, 0)} ms beyond bare Node (goal < 500 ms) |
| raw HSM signing, 1 digest, in-process | ${fmt(raw1, 1)} ms | — |
| raw HSM signing, 500 digests, in-process | ${fmt(raw500, 0)} ms | — |
| \`coldsign sign\` 1-input PSBT | ${fmt(sign1, 0)} ms | ${fmt(sign1 / (raw1 + help))}x raw signing + start-up |
| \`coldsign sign\` 500-input PSBT | ${fmt(sign500, 0)} ms | ${fmt(sign500 / (raw500 + help))}x raw signing + start-up (goal < 2x) |
| \`coldsign sign\` 500-input PSBT, the same coins again | ${fmt(sign500Again, 0)} ms | ${fmt(sign500Again / (raw500 + help))}x raw signing + start-up (round *n* finds *n* − 1 earlier signatures of each coin) |
| \`coldsign sign\` EIP-1559 ETH transfer | ${fmt(signEvm, 0)} ms | ${fmt(signEvm / (raw1 + help))}x raw signing + start-up |
`,
);
if (kept) appendFileSync(doc, kept);
