/**
 * Worker thread of the full verification (store/audit-verify.ts): opens the database read-only,
 * starts one read transaction (its snapshot is taken while the main thread holds the write lock, so
 * every worker reads the same database), reports the head it sees, then verifies the ranges it is
 * given (store/audit-verify-range.ts) and sends back their compact results.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { sqliteBinding } from './sqlite-addon.js';
import { verifyRange, type RangeSpec } from './audit-verify-range.js';
import { SCAN_CACHE_SIZE } from './audit-verify-cache.js';
import { errorCodeOf } from '../core/errors.js';

const port = parentPort!;
const sqlite = new Database((workerData as { path: string }).path, {
  readonly: true,
  fileMustExist: true,
  ...sqliteBinding(),
});
// A read scan gains nothing from a large page cache (16 MB by default in better-sqlite3): keep memory flat.
sqlite.pragma(`cache_size = ${SCAN_CACHE_SIZE}`);
sqlite.exec('BEGIN');
const head = sqlite.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as
  { seq: number; hash: string } | undefined;
port.postMessage({ ready: true, head: head ?? { seq: 0, hash: '' } });

port.on('message', (message: { index: number; spec: RangeSpec } | { close: true }) => {
  if ('close' in message) {
    sqlite.exec('COMMIT');
    sqlite.close();
    port.close();
    return;
  }
  try {
    const result = verifyRange(sqlite, message.spec);
    // The closed ids' buffers move to the main thread (no copy; they stay out of its heap).
    const { closedBefore, restarted } = result.signing;
    port.postMessage({ index: message.index, result }, [
      closedBefore.buffer as ArrayBuffer,
      restarted.buffer as ArrayBuffer,
    ]);
  } catch (error) {
    // SQLite's result code goes with the message: the main thread tells a damaged page from a failed check.
    port.postMessage({
      index: message.index,
      error: error instanceof Error ? error.message : String(error),
      code: errorCodeOf(error),
    });
  }
});
