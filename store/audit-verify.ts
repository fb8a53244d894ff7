/**
 * Full verification of the audit log in ranges of entries (docs/audit.md "Full verification"):
 * each range is verified on its own (store/audit-verify-range.ts) and the results are stitched in
 * seq order (store/audit-verify-stitch.ts). Long logs are verified by worker threads, this thread
 * only stitching their results; short ones, and databases without a file, in this thread, with the
 * same code.
 *
 * One snapshot: the main connection takes SQLite's write lock (BEGIN IMMEDIATE; in WAL mode one
 * writer at a time, readers never blocked) before any worker opens its read transaction, and holds
 * it until the verdict, so no commit can fall between the snapshots the threads read; each worker
 * also reports the head it sees, which must be the main thread's, and no verdict is given before
 * every worker has reported it. Any worker error, exit or unreadable message fails the verification
 * with its reason (fail closed).
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { AuditCheckpoint, AuditVerification, SignatureCheck } from './audit-chain.js';
import type { ColdsignDb } from './database.js';
import {
  LISTED_TYPES,
  signingEventsIn,
  verifyRange,
  type RangeResult,
  type RangeSpec,
} from './audit-verify-range.js';
import { RangeStitcher } from './audit-verify-stitch.js';
import { SCAN_CACHE_SIZE } from './audit-verify-cache.js';
import { storeErrorOf, type ColdsignError } from '../core/errors.js';

/** Entries per range (small enough that the last range keeps one worker waiting only briefly). */
export const RANGE_SIZE = 16_384;
/** Logs with fewer entries are verified in this thread (starting workers costs more than it saves). */
export const PARALLEL_FROM = 50_000;
/**
 * Heap limits of a worker: a small young generation and an old generation far above what a range
 * keeps alive (a few MB), so garbage is collected early and peak RSS stays flat; a hostile log whose
 * rows exceed it stops that worker, which fails the verification with the reason. (Measured on a
 * 1M-entry log: 4 MB young instead of 8 saves ~10 MB of peak RSS at the same CPU time.)
 */
const WORKER_HEAP = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 32 };

export interface FullVerifyOptions {
  /** Compare the stored state tables with the replayed projection (audit verify). */
  tables: boolean;
  rangeSize?: number;
  /** Entries and stored rows read per query inside a range (default SCAN_CHUNK). */
  scanChunk?: number;
  /**
   * Worker threads (this thread only stitches their results); 0 verifies in this thread.
   * Default: the CPU count, at most 2, from PARALLEL_FROM entries.
   */
  workers?: number;
  /**
   * Which worker takes which range: 'shared' (default) — whichever worker is free takes the next
   * range; 'alternate' — range i goes to worker i mod workers (tests use it to know which worker
   * verifies a range).
   */
  assignment?: 'shared' | 'alternate';
  /** The worker script (tests start a failing one). */
  workerUrl?: URL;
}

interface Plan {
  last: number;
  lastHash: string;
  checkpointCount: number;
  newest: number | null;
}

function plan(db: ColdsignDb): Plan {
  const head = db.sqlite.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as
    { seq: number; hash: string } | undefined;
  const { n, newest } = db.sqlite
    .prepare('SELECT COUNT(*) AS n, MAX(seq) AS newest FROM audit_checkpoints')
    .get() as { n: number; newest: number | null };
  return { last: head?.seq ?? 0, lastHash: head?.hash ?? '', checkpointCount: n, newest };
}

/** What shapes the ranges: whether tables are compared, entries per range and rows per read. */
type RangeOptions = Pick<FullVerifyOptions, 'tables' | 'rangeSize' | 'scanChunk'>;

function* rangeSpecs(last: number, options: RangeOptions): Generator<RangeSpec> {
  const { tables, scanChunk: chunk } = options;
  const size = options.rangeSize ?? RANGE_SIZE;
  const count = Math.max(1, Math.ceil(last / size));
  for (let i = 0; i < count; i += 1) {
    yield {
      from: i * size,
      to: Math.min((i + 1) * size, last),
      first: i === 0,
      last: i === count - 1,
      tables,
      ...(chunk === undefined ? {} : { chunk }),
    };
  }
}

type ReadCheckpoints = (db: ColdsignDb) => Iterator<AuditCheckpoint>;

/** Runs `fn` inside one read transaction (one snapshot), unless the caller already is in one. */
function inSnapshot<T>(db: ColdsignDb, fn: () => T): T {
  if (db.sqlite.inTransaction) return fn();
  db.sqlite.exec('BEGIN');
  try {
    return fn();
  } finally {
    if (db.sqlite.inTransaction) db.sqlite.exec('COMMIT');
  }
}

/** The log's extent and the stitcher that checks range results against the checkpoints, in order. */
function planStitcher(
  db: ColdsignDb,
  publicKey: Uint8Array,
  signatures: SignatureCheck,
  tables: boolean,
  checkpoints: ReadCheckpoints,
): { p: ReturnType<typeof plan>; stitcher: RangeStitcher } {
  const p = plan(db);
  const stitcher = new RangeStitcher(checkpoints(db), {
    publicKey,
    signatures,
    newest: p.newest,
    checkpointCount: p.checkpointCount,
    tables,
    signingEvents: (from, through) => signingEventsIn(db.sqlite, from, through),
  });
  return { p, stitcher };
}

/** Verifies the whole log range after range in this thread (synchronous). */
export function verifyInThread(
  db: ColdsignDb,
  publicKey: Uint8Array,
  signatures: SignatureCheck,
  checkpoints: ReadCheckpoints,
  options: RangeOptions,
): AuditVerification {
  return inSnapshot(db, () => {
    const { p, stitcher } = planStitcher(db, publicKey, signatures, options.tables, checkpoints);
    try {
      if (p.last > 0) {
        for (const spec of rangeSpecs(p.last, options)) {
          stitcher.add(verifyRange(db.sqlite, { ...spec, startLinks: stitcher.heads }));
          if (stitcher.failed) break;
        }
      }
      return withTypeIndexChecked(db, stitcher.finish());
    } finally {
      stitcher.release();
    }
  });
}

const LISTED_BY_TYPE = `SELECT seq FROM audit_log WHERE type IN (${LISTED_TYPES.map(() => '?').join(', ')}) ORDER BY seq`;

/**
 * Reports list re-anchors and discards through the log's type index (audit_log_by_type), and the walk noted where
 * those entries are. A statement changes a table and its indexes alike, so the two differ only when the file's pages
 * were edited below SQLite, which could hide a re-anchor's gap or a discard from a report: the verification fails.
 */
function withTypeIndexChecked(db: ColdsignDb, result: AuditVerification): AuditVerification {
  if (!result.ok) return result;
  const indexed = db.sqlite
    .prepare(LISTED_BY_TYPE)
    .pluck()
    .all(...LISTED_TYPES) as number[];
  const walked = result.listed ?? [];
  const length = Math.max(indexed.length, walked.length);
  for (let i = 0; i < length; i += 1) {
    if (indexed[i] === walked[i]) continue;
    const seq = Math.min(indexed[i] ?? Infinity, walked[i] ?? Infinity);
    const reason = `the log's type index (audit_log_by_type) disagrees with its entries at entry ${seq}: the database file was edited outside SQLite, and a report read through that index could leave out a re-anchor or a discard`;
    return { ...result, ok: false, firstBad: { seq, reason } };
  }
  return result;
}

/** The built worker script: beside this module in the bundle, or the bundle's when run from source. */
function defaultWorkerUrl(): URL | undefined {
  const url = import.meta.url.endsWith('.ts')
    ? new URL('../dist/bundle/audit-verify-worker.js', import.meta.url)
    : new URL('./audit-verify-worker.js', import.meta.url);
  return existsSync(fileURLToPath(url)) ? url : undefined;
}

/**
 * Verifies the whole log: in this thread and worker threads when it is long (or `options.workers`
 * asks for them), in this thread alone otherwise. Same checks and the same first bad entry either way.
 */
export async function verifyFullLog(
  db: ColdsignDb,
  publicKey: Uint8Array,
  signatures: SignatureCheck,
  checkpoints: ReadCheckpoints,
  options: FullVerifyOptions,
): Promise<AuditVerification> {
  const workerUrl = options.workerUrl ?? defaultWorkerUrl();
  const onFile = db.path !== '' && db.path !== ':memory:' && existsSync(db.path);
  const last = (
    db.sqlite.prepare('SELECT COALESCE(MAX(seq), 0) AS last FROM audit_log').get() as { last: number }
  ).last;
  const workers = options.workers ?? (last >= PARALLEL_FROM ? Math.min(2, Math.max(1, cpus().length)) : 0);
  if (workers === 0 || !workerUrl || !onFile || db.sqlite.inTransaction) {
    return verifyInThread(db, publicKey, signatures, checkpoints, options);
  }
  // A scan gains nothing from a large page cache: this connection's is kept small meanwhile.
  const cacheSize = db.sqlite.pragma('cache_size', { simple: true }) as number;
  db.sqlite.pragma(`cache_size = ${SCAN_CACHE_SIZE}`);
  db.sqlite.exec('BEGIN IMMEDIATE');
  try {
    const { p, stitcher } = planStitcher(db, publicKey, signatures, options.tables, checkpoints);
    try {
      await verifyInThreads(db, p, stitcher, {
        specs: p.last > 0 ? [...rangeSpecs(p.last, options)] : [],
        workers,
        workerUrl,
        alternate: options.assignment === 'alternate',
      });
      return withTypeIndexChecked(db, stitcher.finish());
    } finally {
      stitcher.release();
    }
  } finally {
    if (db.sqlite.inTransaction) db.sqlite.exec('COMMIT');
    db.sqlite.pragma(`cache_size = ${Number(cacheSize)}`);
  }
}

type WorkerMessage =
  | { ready: true; head: { seq: number; hash: string } }
  | { index: number; result: RangeResult }
  | { index: number; error: string; code?: string };

interface ThreadPlan {
  specs: RangeSpec[];
  workers: number;
  workerUrl: URL;
  alternate: boolean;
}

/** Ranges a worker has been sent and not yet answered: the next one waits in its queue. */
const WORKER_QUEUE = 2;
/**
 * Ranges per worker that may be verified ahead of the next one to stitch: a worker the host slows down does not
 * leave the other waiting (a waiting result is tens of kilobytes at most: its closed-id fingerprints).
 */
const RANGES_AHEAD = 4;

/**
 * Runs inside the main connection's write transaction (see the module comment): ranges go to the
 * workers, and their results are stitched in seq order. At most RANGES_AHEAD ranges per worker are in
 * flight or waiting to be stitched: memory stays flat.
 */
async function verifyInThreads(
  db: ColdsignDb,
  p: Plan,
  stitcher: RangeStitcher,
  plan: ThreadPlan,
): Promise<void> {
  const { specs, workers: count } = plan;
  const window = RANGES_AHEAD * count;
  const results = new Map<number, RangeResult>();
  const taken = new Array<boolean>(specs.length).fill(false);
  const queued = new Map<Worker, number>();
  const threads: Worker[] = [];
  let nextToStitch = 0;
  let ready = 0;
  let stop = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  let damage: ColdsignError | undefined; // the store's error a worker met, raised as this thread would
  const failWorker = (reason: string, cause?: Error) => {
    if (stop) return;
    // A storage failure (disk I/O, full, busy) or damaged page a worker met is the store's error (exit 7, or
    // STORE_CORRUPT), as in this thread; only the checks' own failures are verdicts.
    damage = storeErrorOf(cause);
    if (damage) {
      stop = true;
      return notify();
    }
    stitcher.abort(stitcher.nextSeq, `a verification worker failed (${reason}): the log is not verified`);
    stop = true;
    notify();
  };
  /** The next range worker `w` may take, or -1. */
  const nextFor = (w: number): number => {
    for (let i = nextToStitch; i < specs.length && i < nextToStitch + window; i += 1) {
      if (taken[i]) continue;
      if (plan.alternate && i % count !== w) continue;
      return i;
    }
    return -1;
  };
  const dispatch = () => {
    threads.forEach((worker, w) => {
      if (!queued.has(worker)) return; // not ready yet
      while (queued.get(worker)! < WORKER_QUEUE) {
        const index = nextFor(w);
        if (index < 0) return;
        taken[index] = true;
        queued.set(worker, queued.get(worker)! + 1);
        worker.postMessage({ index, spec: specs[index] });
      }
    });
  };
  const onMessage = (worker: Worker, message: WorkerMessage) => {
    if (stop) return;
    if ('ready' in message) {
      if (message.head.seq !== p.last || (p.last > 0 && message.head.hash !== p.lastHash)) {
        stitcher.abort(p.last + 1, 'the database changed while the log was being verified');
        stop = true;
      } else {
        ready += 1;
        queued.set(worker, 0);
      }
    } else if ('error' in message) {
      return failWorker(message.error, Object.assign(new Error(message.error), { code: message.code }));
    } else {
      results.set(message.index, message.result);
      queued.set(worker, queued.get(worker)! - 1);
    }
    notify();
  };
  try {
    for (let i = 0; i < count; i += 1) {
      const worker = new Worker(plan.workerUrl, {
        workerData: { path: db.path },
        resourceLimits: WORKER_HEAP,
      });
      threads.push(worker);
      worker.on('message', (message: WorkerMessage) => onMessage(worker, message));
      worker.on('error', (error: Error) => failWorker(error.message, error));
      worker.on('messageerror', (error: Error) => failWorker(error.message));
      worker.on('exit', (code) => failWorker(`it exited with code ${code}`));
    }
    for (;;) {
      while (!stop && results.has(nextToStitch)) {
        stitcher.add(results.get(nextToStitch)!);
        results.delete(nextToStitch);
        nextToStitch += 1;
        if (stitcher.failed) stop = true;
      }
      // The verdict waits for every worker's head (one snapshot), even one that was given no range.
      if (damage) throw damage;
      if (stop || (nextToStitch === specs.length && ready === count)) return;
      dispatch();
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    stop = true;
    await Promise.all(threads.map((worker) => worker.terminate()));
  }
}
