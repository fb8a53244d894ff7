/**
 * Scale (issue: performance at scale). Builds a home whose audit log holds 1,000,000 entries through
 * the store's own API (Auditor.commit with the records of real signing operations: request,
 * decision, signing.started, signature — so velocity rows and the outpoint ledger (one signed outpoint per
 * operation) grow too — one checkpoint per 10,000
 * entries), then measures whole `coldsign` processes in one run:
 *  - `inspect` and `sign` of a 1-input PSBT, and `inspect` of a 500-input PSBT, on that home against the same on an
 *    empty home (alternating, medians), i.e. the start-up cost of a long log and the decision's cost of a large
 *    outpoint ledger;
 *  - `coldsign audit verify` on the big home: wall time and peak RSS (GNU time).
 * Ends with one line: scale: startup-ratio=<x> verify-seconds=<y> verify-rss-mb=<z>
 * Environment: BENCH_ENTRIES (default 1,000,000), BENCH_RUNS (default 5), BENCH_BUILD_ONLY=1 (grow the
 * home, print its directory and stop: for profiling `coldsign audit verify` on it).
 */
import './thread-pool.js';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import * as bitcoin from 'bitcoinjs-lib';
import type { SigningSummary } from '../core/summary.js';
import { Hsm } from '../hsm/index.js';
import { findSoftHsmModule, useSoftHsmHome } from '../hsm/softhsm.js';
import { buildPsbt } from '../scripts/demo/coordinator.js';
import { Auditor } from '../store/audit.js';
import { RANGE_SIZE } from '../store/audit-verify.js';
import { SCAN_CHUNK } from '../store/audit-verify-range.js';
import { hsmAuditPorts } from '../store/audit-hsm.js';
import { openDatabase } from '../store/database.js';
import { OUTPOINT_BUCKETS } from '../store/outpoint-ledger.js';
import { STATE_TABLES } from '../store/state.js';
import { recordDecision, recordRequest, recordSignatures, recordSigningStarted } from '../store/records.js';
import { fmt, percentile, ROOT, writeSection } from './support.js';

const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const PER_OPERATION = 4;
const ENTRIES_PER_CHECKPOINT = 10_000;
const dir = mkdtempSync(join(tmpdir(), 'coldsign-bench-scale-'));
const PIN = 'bench-pin-1234';
const BIN = join(ROOT, 'bin', 'coldsign');
const loadAtStart = loadavg()[0] ?? 0;

function envFor(home: string): NodeJS.ProcessEnv {
  return { ...process.env, COLDSIGN_HOME: home, COLDSIGN_PIN: PIN, COLDSIGN_PASSPHRASE: 'bench-passphrase' };
}

function run(home: string, args: string[], expect = 0): string {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    env: envFor(home),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== expect)
    throw new Error(`coldsign ${args.join(' ')} exited ${result.status}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

function timed(home: string, args: string[]): number {
  const start = performance.now();
  run(home, args);
  return performance.now() - start;
}

// An empty home: one officer, one Bitcoin key, a policy that allows the probe.
const empty = join(dir, 'empty');
const officer = run(empty, ['officer', 'keygen', 'bench', '--out', join(dir, 'bench.pem')])
  .trim()
  .split('\n')
  .at(-1)!;
run(empty, ['init', '--officer', `bench=${officer}`, '--quorum', '1']);
const key = JSON.parse(
  run(empty, ['keys', 'generate', '--chain', 'btc', '--label', 'vault-btc', '--json']),
) as {
  address: string;
};
const policy = join(dir, 'policy.json');
const { appliance } = JSON.parse(run(empty, ['policy', 'show', '--json'])) as { appliance: string };
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
        approvals: 0,
      },
    ],
  }),
);
run(empty, ['policy', 'sign', policy, '--key', join(dir, 'bench.pem')]);
run(empty, ['policy', 'apply', policy]);

// The big home: a copy (its own token), grown through the store's API.
const big = join(dir, 'big');
cpSync(empty, big, { recursive: true });
rmSync(join(big, 'softhsm2.conf'), { force: true });

/** The scriptPubKey each bench signing claims for its outpoint (P2WPKH). */
const SPENT_SCRIPT = '0014' + '22'.repeat(20);

const summary: SigningSummary = {
  chain: 'btc',
  kind: 'psbt',
  network: 'mainnet',
  signingKeys: ['vault-btc'],
  movements: [
    {
      to: 'bc1qbench',
      raw: '100000',
      amount: '0.001',
      asset: { type: 'native', symbol: 'BTC' },
      change: false,
    },
  ],
  fee: { raw: '1000', amount: '0.00001', rate: 5 },
  blind: false,
  warnings: [],
  details: { inputs: 1, outputs: 2 },
};

async function grow(): Promise<number> {
  useSoftHsmHome(big);
  const hsm = Hsm.open({ module: findSoftHsmModule(), token: 'coldsign' }, PIN);
  const db = openDatabase(join(big, 'coldsign.db'));
  const start = performance.now();
  try {
    const auditor = await Auditor.open(db, await hsmAuditPorts(hsm, { db }), new Date());
    const batches = Math.ceil((ENTRIES - auditor.head.seq) / ENTRIES_PER_CHECKPOINT);
    // Entry times never go backwards: the history is written between the home's last entry and now.
    const last = db.sqlite.prepare('SELECT time FROM audit_log ORDER BY seq DESC LIMIT 1').get() as {
      time: string;
    };
    const first = Date.parse(last.time);
    const step = Math.max(0, Date.now() - first) / batches;
    for (let b = 0; b < batches; b += 1) {
      const now = new Date(first + b * step);
      const remaining = ENTRIES - auditor.head.seq;
      const operations = Math.min(ENTRIES_PER_CHECKPOINT, remaining) / PER_OPERATION;
      await auditor.commit(now, (tx) => {
        for (let i = 0; i < operations; i += 1) {
          const requestId = randomBytes(32).toString('hex');
          recordRequest(tx, { requestId, chain: 'btc', kind: 'psbt', summary: summary.details }, now);
          recordDecision(
            tx,
            requestId,
            { allowed: true, rule: 'btc-any', requiredApprovals: 0, reasons: [] },
            1,
            now,
          );
          recordSigningStarted(tx, [
            { requestId, txid: requestId, signatures: [{ key: 'vault-btc', input: 0, sighashType: 1 }] },
          ]);
          recordSignatures(
            tx,
            {
              requestId,
              txid: requestId,
              rule: 'btc-any',
              summary,
              signatures: [{ keyLabel: 'vault-btc', signature: '3044' }],
              outpoints: [
                {
                  outpoint: `${requestId}:0`,
                  sats: '101000',
                  script: SPENT_SCRIPT,
                  keyLabel: 'vault-btc',
                  sighashType: 1,
                },
              ],
            },
            now,
          );
        }
      });
    }
    return auditor.head.seq;
  } finally {
    db.close();
    hsm.close();
    process.stdout.write(`grew the log in ${fmt((performance.now() - start) / 1000, 1)} s\n`);
  }
}

const entries = await grow();
if (process.env.BENCH_BUILD_ONLY) {
  process.stdout.write(`home: ${big} (COLDSIGN_PIN=${PIN})\n`);
  process.exit(0);
}
const payTo = bitcoin.payments.p2wpkh({
  pubkey: Buffer.from('0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798', 'hex'),
}).address!;
const psbt = join(dir, 'one.psbt');
writeFileSync(psbt, buildPsbt(key.address, payTo, 100_000n, 1_000n, [500_000n]));
// 500 coins: the decision walks the ledger's buckets of each of them (about 470 buckets).
const psbt500 = join(dir, 'five-hundred.psbt');
writeFileSync(
  psbt500,
  buildPsbt(
    key.address,
    payTo,
    100_000n,
    50_000n,
    Array.from({ length: 500 }, () => 10_000n),
  ),
);

// Alternating rounds, so both homes see the same load.
const times = {
  inspect: { empty: [] as number[], big: [] as number[] },
  inspect500: { empty: [] as number[], big: [] as number[] },
  sign: { empty: [] as number[], big: [] as number[] },
};
for (let i = 0; i < RUNS; i += 1) {
  for (const [name, home] of [
    ['empty', empty],
    ['big', big],
  ] as const) {
    times.inspect[name].push(timed(home, ['inspect', psbt, '--json']));
    times.inspect500[name].push(timed(home, ['inspect', psbt500, '--json']));
    times.sign[name].push(timed(home, ['sign', psbt, '--out', join(dir, `out-${name}-${i}.psbt`), '--json']));
  }
}
const median = (xs: number[]) => percentile(xs, 50);
const inspectRatio = median(times.inspect.big) / median(times.inspect.empty);
const signRatio = median(times.sign.big) / median(times.sign.empty);
const inspect500Ratio = median(times.inspect500.big) / median(times.inspect500.empty);
const startupRatio = Math.max(inspectRatio, signRatio);

// audit verify on the big home, under GNU time for the peak RSS, VERIFY_RUNS times, each followed by its baselines: a
// plain scan of the log's rows (the floor the goal was set against), and of the log's rows plus every state row verify
// compares (the floor of this home, whose ledger grows with the log). Medians, and the median of each round's ratio.
const VERIFY_RUNS = Number(process.env.BENCH_VERIFY_RUNS ?? 3);

function verifyOnce() {
  const verify = spawnSync(
    '/usr/bin/time',
    ['-f', '%e %M %U %S', process.execPath, BIN, 'audit', 'verify', '--json'],
    { env: envFor(big), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (verify.status !== 0) throw new Error(`audit verify exited ${verify.status}: ${verify.stderr}`);
  const [seconds = NaN, kb = NaN, user = NaN, sys = NaN] = (verify.stderr.trim().split('\n').at(-1) ?? '')
    .split(' ')
    .map(Number);
  const { entries: verifiedEntries } = JSON.parse(verify.stdout) as { entries: number; ok: boolean };
  return { seconds, kb, user, sys, verifiedEntries, load: loadavg()[0] ?? 0 };
}

const scanDb = new Database(join(big, 'coldsign.db'), { readonly: true });
function scan(sql: string): number {
  let rows = 0;
  for (const _row of scanDb.prepare(sql).raw().iterate()) rows += 1;
  return rows;
}
function scansOnce() {
  const start = performance.now();
  const scanned = scan('SELECT seq, time, type, payload, prev_hash, hash FROM audit_log ORDER BY seq');
  const scanSeconds = (performance.now() - start) / 1000;
  let stateRows = 0;
  for (const table of STATE_TABLES) stateRows += scan(`SELECT * FROM ${table} ORDER BY seq, pos`);
  return { scanned, stateRows, scanSeconds, fullScanSeconds: (performance.now() - start) / 1000 };
}

const rounds = Array.from({ length: VERIFY_RUNS }, () => ({ verify: verifyOnce(), scans: scansOnce() }));
scanDb.close();
const seconds = median(rounds.map((r) => r.verify.seconds));
const userSeconds = median(rounds.map((r) => r.verify.user));
const sysSeconds = median(rounds.map((r) => r.verify.sys));
const rssMb = Math.max(...rounds.map((r) => r.verify.kb)) / 1024;
const verifyLoad = Math.max(...rounds.map((r) => r.verify.load));
const verified = { entries: rounds[0]!.verify.verifiedEntries };
const { scanned, stateRows } = rounds[0]!.scans;
const scanSeconds = median(rounds.map((r) => r.scans.scanSeconds));
const fullScanSeconds = median(rounds.map((r) => r.scans.fullScanSeconds));
const scanRatio = median(rounds.map((r) => r.verify.seconds / r.scans.scanSeconds));
const fullScanRatio = median(rounds.map((r) => r.verify.seconds / r.scans.fullScanSeconds));
const verifyRuns = rounds.map((r) => fmt(r.verify.seconds, 1)).join(', ');

writeSection(
  'scale',
  'Scale: start-up and audit verification on a 1,000,000-entry log',
  `
A home grown to ${entries.toLocaleString('en')} audit entries through the store's own API (request, decision,
signing.started and signature records of ${Math.floor(entries / PER_OPERATION).toLocaleString('en')} signing operations, a
checkpoint every ${ENTRIES_PER_CHECKPOINT.toLocaleString('en')} entries), against an empty home with the same key and policy. Whole
\`coldsign\` processes, ${RUNS} alternating rounds, medians; load average ${fmt(loadAtStart, 1)} at start.

| command | empty home (ms) | ${entries.toLocaleString('en')} entries (ms) | ratio | goal |
|---|---|---|---|---|
| \`inspect\` 1-input PSBT | ${fmt(median(times.inspect.empty), 0)} | ${fmt(median(times.inspect.big), 0)} | ${fmt(inspectRatio)} | ≤ 1.2 |
| \`sign\` 1-input PSBT | ${fmt(median(times.sign.empty), 0)} | ${fmt(median(times.sign.big), 0)} | ${fmt(signRatio)} | ≤ 1.2 |
| \`inspect\` 500-input PSBT (the decision walks the ledger's buckets of 500 coins) | ${fmt(median(times.inspect500.empty), 0)} | ${fmt(median(times.inspect500.big), 0)} | ${fmt(inspect500Ratio)} | — |

\`coldsign audit verify\` (a whole process that loads only the modules verification needs: start-up, the log
verified in ranges of ${RANGE_SIZE.toLocaleString('en')} entries by two worker threads with 4 MB young / 32 MB old heaps, reading ${SCAN_CHUNK} entries (and
each table's stored rows, as JSON text) per query — each entry hashed once, the state replayed and the stored
state rows compared with it — and stitched in order by the main thread,
the newest checkpoint signature, the HSM pin) of
${verified.entries.toLocaleString('en')} entries, ${VERIFY_RUNS} runs: **${fmt(seconds, 1)} s** wall, the median (runs: ${verifyRuns} s; CPU medians: user ${fmt(userSeconds, 1)} s,
sys ${fmt(sysSeconds, 1)} s, over the main thread and its verification workers; load average up to ${fmt(verifyLoad, 1)} when they
ended), peak RSS **${fmt(rssMb, 0)} MB** at most (goals: ≤ 5 s, ≤ 150 MB). After each run, a plain scan of the same
${scanned.toLocaleString('en')} rows (better-sqlite3, one statement, no work per row): ${fmt(scanSeconds, 1)} s median, so verify
is **${fmt(scanRatio)}×** the row-scan floor (the median of the runs' ratios); with the ${stateRows.toLocaleString('en')} state rows verify
also compares (velocity and outpoint ledger, one each per signing here) the plain scan takes ${fmt(fullScanSeconds, 1)} s
(verify ${fmt(fullScanRatio)}× it). Issue 16 set its 5 s goal against a row scan of about 2.2 s, i.e. about 2.3× that
floor. Load average ${fmt(loadavg()[0] ?? 0, 1)} at the end.

Start-up no longer reads the log: it verifies the pinned checkpoint's signature and entry, checks the
small state tables whole and the growing ones (velocity, approvals) at their newest row, and replays
only the entries after the pin; a decision reads the velocity rows of its window, each verified back
from the head (docs/audit.md). The probe's rule has no velocity limit, so the velocity rows (one per
signing operation here) are not read by its decision; a rule with a velocity window reads the rows
inside that window. Each operation also signed one outpoint, so the outpoint ledger holds
${Math.floor(entries / PER_OPERATION).toLocaleString('en')} rows: the probe's decision checks its input against one bucket of the
ledger's index (about ${Math.round(entries / PER_OPERATION / OUTPOINT_BUCKETS)} rows), whose root the HSM pin holds. The 500-input
probe's decision walks the buckets of its 500 coins (about 470 distinct buckets, so about
${(Math.round((470 * entries) / PER_OPERATION / OUTPOINT_BUCKETS / 1000) * 1000).toLocaleString('en')} rows, each hashed into its bucket's chain), read in one query.
`,
);
rmSync(dir, { recursive: true, force: true });
process.stdout.write(
  `verify user ${fmt(userSeconds, 1)} s sys ${fmt(sysSeconds, 1)} s (load ${fmt(verifyLoad, 1)}); row scan ${fmt(scanSeconds, 1)} s (verify ${fmt(scanRatio)}× it; runs ${verifyRuns} s), with state rows ${fmt(fullScanSeconds, 1)} s (${fmt(fullScanRatio)}×); inspect ${fmt(inspectRatio)}×, sign ${fmt(signRatio)}×; load ${fmt(loadavg()[0] ?? 0, 1)}\n`,
);
process.stdout.write(
  `scale: startup-ratio=${fmt(startupRatio)} verify-seconds=${fmt(seconds, 1)} verify-rss-mb=${fmt(rssMb, 0)}\n`,
);
