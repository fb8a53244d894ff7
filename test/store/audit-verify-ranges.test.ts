/**
 * The full verification in ranges (store/audit-verify*.ts): the same verdict, first bad entry and
 * reason whether the log is verified as one range, in small ranges in this thread, or in small
 * ranges spread over two worker threads (real threads on a real database) — taken by whichever
 * worker is free, or alternately so that each tampered range is known to be verified by worker 0
 * or worker 1, and with entries and stored rows read a few at a time (batch edges everywhere); tampering at a range boundary, on either side of it, or in the velocity rows of a
 * later range is named; a failed worker fails.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { isColdsignError, toColdsignError } from '../../core/errors.js';
import { entryHash } from '../../store/audit-chain.js';
import { Auditor, type AuditVerification } from '../../store/audit.js';
import type { FullVerifyOptions } from '../../store/audit-verify.js';
import { FULL_VERIFY_RESULT_SETTING } from '../../store/audit-freshness.js';
import { setSetting } from '../../store/settings.js';
import {
  at,
  newAuditCase,
  tamper,
  tamperIndexPages,
  tamperStructure,
  useAuditToken,
  type AuditCase,
} from './audit-fixture.js';

const { hsm, track } = useAuditToken();
/**
 * 16 entries per range: the 120 entries below span 8 ranges; with 'alternate', worker 0 verifies
 * entries 1–16, 33–48, 65–80, 97–112 and worker 1 entries 17–32, 49–64, 81–96, 113–120.
 */
const RANGE = 16;
const MODES: Record<string, Omit<FullVerifyOptions, 'tables'>> = {
  'one range': { workers: 0 },
  'ranges in this thread': { workers: 0, rangeSize: RANGE },
  'ranges in two workers, whichever is free': { workers: 2, rangeSize: RANGE },
  'ranges in two workers, alternately': { workers: 2, rangeSize: RANGE, assignment: 'alternate' },
  // Entries and stored rows read 3 at a time: every range crosses batch edges of the log and of each table.
  'one range, 3 rows per read': { workers: 0, scanChunk: 3 },
  'ranges in two workers, 3 rows per read': { workers: 2, rangeSize: RANGE, scanChunk: 3 },
};

/**
 * 60 signings: entry 2i−1 starts request r<i>, entry 2i is its signature (one velocity row at seq 2i);
 * a checkpoint every 10 entries; the last request is started and never finished.
 */
async function signingLog(): Promise<AuditCase> {
  const c = track(await newAuditCase(hsm(), 0));
  for (let i = 1; i <= 60; i += 1) {
    await c.auditor.commit(
      at(i + 1),
      (tx) => {
        tx.append('signing.started', { requestIds: [`r${i}`] });
        if (i < 60)
          tx.append('signature', {
            requestId: `r${i}`,
            rule: 'daily',
            spent: { BTC: String(i) },
            txid: `t${i}`,
          });
        else tx.append('note', { text: 'left open' });
      },
      { checkpoint: i % 5 === 0 },
    );
  }
  return c;
}

/** The verdict in every mode; all must agree. */
async function verdicts(c: AuditCase, opened?: Auditor): Promise<AuditVerification> {
  const auditor = opened ?? (await Auditor.open(c.db, c.ports, at(100)));
  const results: Record<string, AuditVerification> = {};
  for (const [mode, options] of Object.entries(MODES))
    results[mode] = await auditor.verify('newest', at(100), options);
  const [first, ...rest] = Object.values(results);
  for (const [mode, result] of Object.entries(results)) {
    expect({
      mode,
      ok: result.ok,
      firstBad: result.firstBad,
      entries: result.entries,
      unfinished: result.unfinishedSignings,
      listed: result.listed,
    }).toEqual({
      mode,
      ok: first!.ok,
      firstBad: first!.firstBad,
      entries: first!.entries,
      unfinished: first!.unfinishedSignings,
      listed: first!.listed,
    });
  }
  void rest;
  return first!;
}

describe('full verification in ranges', () => {
  it('an intact log verifies the same in every mode, with its unfinished signing', async () => {
    const c = await signingLog();
    const result = await verdicts(c);
    expect(result).toMatchObject({ ok: true, entries: 120 });
    expect(result.unfinishedSignings).toEqual([{ seq: 119, requestIds: ['r60'] }]);
  });

  it('re-anchors and discards are found alike in every mode; hidden from the type index (below SQL), the first is named', async () => {
    const c = track(await newAuditCase(hsm(), 0));
    const typeOf = (i: number) =>
      i % 9 === 0 ? 'audit.reanchored' : i % 13 === 0 ? 'audit.discarded' : 'note';
    for (let i = 1; i <= 40; i += 1)
      await c.auditor.commit(at(i + 1), (tx) => tx.append(typeOf(i), { text: `entry ${i}` }), {
        checkpoint: i % 5 === 0,
      });
    const listed = c.db.sqlite
      .prepare(
        "SELECT seq FROM audit_log NOT INDEXED WHERE type IN ('audit.reanchored', 'audit.discarded') ORDER BY seq",
      )
      .pluck()
      .all() as number[];
    expect(listed).toHaveLength(7);
    expect(await verdicts(c)).toMatchObject({ ok: true, listed });
    expect(tamperIndexPages(c, 'audit_log_by_type', 'audit.discarded', 'audit.discardeX')).toBe(3);
    const firstDiscard = c.db.sqlite
      .prepare("SELECT MIN(seq) FROM audit_log NOT INDEXED WHERE type = 'audit.discarded'")
      .pluck()
      .get() as number;
    const result = await verdicts(c);
    expect(result).toMatchObject({ ok: false, firstBad: { seq: firstDiscard } });
    expect(result.firstBad!.reason).toMatch(/type index \(audit_log_by_type\) disagrees/);
  });

  it('signings that cross range boundaries are closed by the later range, for any request id', async () => {
    // Entries (16 per range). Range 1: 10 starts q; 11 starts x\uD800 and x\uD801 (one lone surrogate each,
    // which UTF-8 would encode alike); 12 starts an id holding a newline and quotes; 13 starts w; 15 starts a.
    // Range 2 (its closes read from the exact set): 17 closes a, 18 closes x\uD800, then six signings of its own.
    // Range 3 (replayed: it closes ids it started while earlier ranges left them open): 33 starts q again, 34
    // closes it; 35 closes w, 36 starts it again, 37 closes it; 38 closes the id with the newline. Only x\uD801
    // stays open.
    const c = track(await newAuditCase(hsm(), 0));
    const entries: Array<[string, object]> = [];
    const note = () => entries.push(['note', { text: 'filler' }]);
    const started = (...requestIds: string[]) => entries.push(['signing.started', { requestIds }]);
    const failed = (...requestIds: string[]) => entries.push(['signing.failed', { requestIds }]);
    for (let seq = 1; seq <= 9; seq += 1) note();
    started('q');
    started('x\uD800', 'x\uD801');
    started('n\n"q"');
    started('w');
    note();
    started('a');
    note();
    failed('a');
    failed('x\uD800');
    for (let i = 19; i <= 30; i += 2) {
      started(`r${i}`);
      failed(`r${i}`);
    }
    note();
    note();
    started('q');
    failed('q');
    failed('w');
    started('w');
    failed('w');
    failed('n\n"q"');
    note();
    note();
    expect(entries).toHaveLength(40);
    for (const [i, [type, payload]] of entries.entries())
      await c.auditor.commit(at(i + 1), (tx) => tx.append(type, payload), { checkpoint: i % 10 === 9 });
    const result = await verdicts(c);
    expect(result).toMatchObject({ ok: true, entries: 40 });
    expect(result.unfinishedSignings).toEqual([{ seq: 11, requestIds: ['x\uD801'] }]);
    // A replay reads its range's signing events again from the log itself: closes hidden from the type index by
    // an edit of its pages (below SQL) are still seen, and every mode still agrees.
    expect(
      tamperIndexPages(c, 'audit_log_by_type', 'signing.failed', 'signing.faileX'),
    ).toBeGreaterThanOrEqual(12);
    const edited = await verdicts(c);
    expect(edited).toMatchObject({ ok: true, entries: 40 });
    expect(edited.unfinishedSignings).toEqual([{ seq: 11, requestIds: ['x\uD801'] }]);
  });

  it('an id left open is not closed by another id of the same fingerprint that a later range starts and closes', async () => {
    // collide-63438 and collide-318226 share their 32-bit fingerprint (test/store/request-id-set.test.ts): range 2
    // starts and closes the second while the first, started in range 1, stays open; the stitcher must replay
    // range 2 exactly rather than take the fingerprint for the id.
    const c = track(await newAuditCase(hsm(), 0));
    for (let i = 1; i <= 40; i += 1) {
      const [type, payload] =
        i === 5
          ? ['signing.started', { requestIds: ['collide-63438'] }]
          : i === 20
            ? ['signing.started', { requestIds: ['collide-318226'] }]
            : i === 22
              ? ['signing.failed', { requestIds: ['collide-318226'] }]
              : ['note', { text: 'filler' }];
      await c.auditor.commit(at(i), (tx) => tx.append(type as string, payload), { checkpoint: i % 10 === 0 });
    }
    const result = await verdicts(c);
    expect(result).toMatchObject({ ok: true, entries: 40 });
    expect(result.unfinishedSignings).toEqual([{ seq: 5, requestIds: ['collide-63438'] }]);
  });

  /** Re-hashes entry `seq` with another payload of the same projection: only the next entry's link breaks. */
  const rehash = (seq: number) => (raw: Database.Database) => {
    const row = raw.prepare('SELECT time, type, prev_hash FROM audit_log WHERE seq = ?').get(seq) as {
      time: string;
      type: string;
      prev_hash: string;
    };
    const i = seq / 2;
    const payload = `{"extra":1,"requestId":"r${i}","rule":"daily","spent":{"BTC":"${i}"},"txid":"t${i}"}`;
    raw
      .prepare('UPDATE audit_log SET payload = ?, hash = ? WHERE seq = ?')
      .run(payload, entryHash(seq, row.time, row.type, payload, row.prev_hash), seq);
  };
  const velocityMismatch = (seq: number) =>
    `the velocity table does not match the audit log at entry ${seq}: a row was edited, inserted or deleted`;
  it.each<[string, (raw: Database.Database) => void, { seq: number; reason: string }]>([
    [
      'an entry edited at the start of a range of worker 0',
      (raw) => raw.prepare(`UPDATE audit_log SET payload = '{"requestIds":["x"]}' WHERE seq = 33`).run(),
      { seq: 33, reason: 'entry 33 was modified: its content does not match its hash' },
    ],
    [
      'an entry edited at the start of a range of worker 1',
      (raw) => raw.prepare(`UPDATE audit_log SET payload = '{"requestIds":["x"]}' WHERE seq = 81`).run(),
      { seq: 81, reason: 'entry 81 was modified: its content does not match its hash' },
    ],
    [
      'an entry rehashed at the end of a range of worker 0 (the link of worker 1’s next range breaks)',
      rehash(48),
      {
        seq: 49,
        reason: 'entry 49 does not link to the hash of entry 48: an entry was inserted, deleted or reordered',
      },
    ],
    [
      'an entry rehashed at the end of a range of worker 1 (the link of worker 0’s next range breaks)',
      rehash(96),
      {
        seq: 97,
        reason: 'entry 97 does not link to the hash of entry 96: an entry was inserted, deleted or reordered',
      },
    ],
    [
      'the first entry of a range of worker 0 deleted',
      (raw) => raw.prepare('DELETE FROM audit_log WHERE seq = 65').run(),
      { seq: 65, reason: 'entry 65 is missing (the next entry found is 66): entries were deleted' },
    ],
    [
      'the first entry of a range of worker 1 deleted',
      (raw) => raw.prepare('DELETE FROM audit_log WHERE seq = 49').run(),
      { seq: 49, reason: 'entry 49 is missing (the next entry found is 50): entries were deleted' },
    ],
    [
      'a velocity row edited in a later range of worker 0',
      (raw) => raw.prepare(`UPDATE velocity SET raw = '999' WHERE seq = 100`).run(),
      { seq: 100, reason: velocityMismatch(100) },
    ],
    [
      'a velocity row deleted at the end of a range of worker 1',
      (raw) => raw.prepare('DELETE FROM velocity WHERE seq = 64').run(),
      { seq: 64, reason: velocityMismatch(64) },
    ],
    [
      'a velocity row added inside a range of worker 0 (named at the row it displaces)',
      (raw) => {
        const link = (raw.prepare('SELECT link FROM velocity WHERE seq = 70').pluck().get() as string) ?? '';
        raw
          .prepare(
            "INSERT INTO velocity (seq, pos, request_id, rule, asset, raw, time_ms, txid, link) VALUES (70, 1, 'r35', 'daily', 'ETH', '5', 0, 't35', ?)",
          )
          .run(link);
      },
      { seq: 70, reason: velocityMismatch(70) },
    ],
    [
      'a velocity row added at an entry that projects none (named at its own seq, before the next row)',
      (raw) =>
        raw
          .prepare(
            "INSERT INTO velocity (seq, pos, request_id, rule, asset, raw, time_ms, txid, link) VALUES (51, 0, 'r26', 'daily', 'BTC', '26', 0, 't26', ?)",
          )
          .run('0'.repeat(64)),
      { seq: 51, reason: velocityMismatch(51) },
    ],
    [
      'three velocity rows in a row deleted (across batch edges when rows are read 3 at a time)',
      (raw) => raw.prepare('DELETE FROM velocity WHERE seq IN (38, 40, 42)').run(),
      { seq: 38, reason: velocityMismatch(38) },
    ],
  ])('%s is named the same in every mode', async (_name, edit, firstBad) => {
    const c = await signingLog();
    tamper(c, edit);
    expect((await verdicts(c)).firstBad).toEqual(firstBad);
  });

  it('state values with quotes, backslashes, control, non-ASCII and astral characters verify in every mode, and an edit of one is named', async () => {
    const c = track(await newAuditCase(hsm(), 0));
    const awkward = (i: number) => `rule "${i}" \\ \u0001\t é ☃ 😀 \u2028 ${String.fromCharCode(0x7f + i)}`;
    for (let i = 1; i <= 30; i += 1) {
      await c.auditor.commit(
        at(i + 1),
        (tx) => {
          tx.append('signing.started', { requestIds: [`r${i}`] });
          tx.append('signature', {
            requestId: `r${i}`,
            rule: awkward(i),
            spent: { BTC: String(i) },
            txid: `t${i}`,
          });
        },
        { checkpoint: i % 5 === 0 },
      );
    }
    expect(await verdicts(c)).toMatchObject({ ok: true, entries: 60 });
    expect(c.db.sqlite.prepare('SELECT rule FROM velocity WHERE seq = 40').pluck().get()).toBe(awkward(20));
    tamper(c, (raw) =>
      raw.prepare('UPDATE velocity SET rule = ? WHERE seq = 40').run(awkward(20).replace('😀', '😁')),
    );
    expect((await verdicts(c)).firstBad).toEqual({ seq: 40, reason: velocityMismatch(40) });
  });

  it('a state table rebuilt without STRICT holding a BLOB where the log projects text: the row is named in every mode', async () => {
    const c = await signingLog();
    tamperStructure(
      c,
      (raw) => {
        raw.exec(`
        ALTER TABLE velocity RENAME TO velocity_strict;
        CREATE TABLE velocity (seq INTEGER NOT NULL, pos INTEGER NOT NULL, request_id TEXT, rule TEXT, asset TEXT,
          raw TEXT, time_ms INTEGER, txid TEXT, link TEXT NOT NULL, PRIMARY KEY (seq, pos));
        INSERT INTO velocity SELECT * FROM velocity_strict;
        DROP TABLE velocity_strict;
      `);
        raw.prepare('UPDATE velocity SET rule = ? WHERE seq = 40').run(Buffer.from('daily'));
      },
      'velocity',
    );
    expect((await verdicts(c)).firstBad).toEqual({ seq: 40, reason: velocityMismatch(40) });
  });

  it('a velocity row beyond the last entry is named as added (written after start-up, which refuses it)', async () => {
    const c = await signingLog();
    const auditor = await Auditor.open(c.db, c.ports, at(100));
    const raw = new Database(c.path);
    raw
      .prepare(
        "INSERT INTO velocity (seq, pos, request_id, rule, asset, raw, time_ms, txid, link) VALUES (500, 0, 'x', 'daily', 'BTC', '1', 0, 'x', ?)",
      )
      .run('0'.repeat(64));
    raw.close();
    const result = await verdicts(c, auditor);
    expect(result.firstBad).toEqual({
      seq: 500,
      reason:
        'the velocity table does not match the audit log at entry 500: a row names no audit entry (rows were added)',
    });
  });

  it('a damaged page that only a worker reads is the store failure it is in this thread (STORE_CORRUPT), not a failed worker', async () => {
    // 400 entries and a checkpoint at each end (checkpoints have their own table): a middle leaf of audit_log is
    // read by a worker only.
    const c = track(await newAuditCase(hsm(), 0));
    for (let i = 1; i <= 400; i += 1)
      await c.auditor.commit(at(i + 1), (tx) => tx.append('note', { text: `entry ${i}`.padEnd(80, '.') }), {
        checkpoint: false,
      });
    await c.auditor.checkpoint(at(500));
    const parallel = { workers: 2, rangeSize: RANGE } as const;
    expect((await c.auditor.verify('newest', at(501), parallel)).ok).toBe(true);
    tamper(c, (raw) => {
      raw.pragma('wal_checkpoint(TRUNCATE)');
      const leaves = raw
        .prepare("SELECT pageno FROM dbstat WHERE name = 'audit_log' AND pagetype = 'leaf' ORDER BY path")
        .pluck()
        .all() as number[];
      expect(leaves.length).toBeGreaterThan(4);
      const pageSize = raw.pragma('page_size', { simple: true }) as number;
      const fd = openSync(c.path, 'r+');
      writeSync(fd, Buffer.alloc(16, 0xee), 0, 16, (leaves[leaves.length >> 1]! - 1) * pageSize);
      closeSync(fd);
    });
    const auditor = await Auditor.open(c.db, c.ports, at(502));
    for (const options of [parallel, { workers: 0 }]) {
      const outcome = await auditor.verify('newest', at(503), options).then(
        (result) => result,
        (error: unknown) => error,
      );
      // As the CLI and the app report it (this thread's path throws SQLite's own error, the workers' path the
      // converted one; before, the workers' path ended as a verdict naming a failed worker).
      expect(toColdsignError(outcome).code, JSON.stringify({ options, outcome })).toBe('STORE_CORRUPT');
      // and the recorded outcome (what hsm info and the app show) is a failure, on either path
      const recorded = c.db.sqlite
        .prepare("SELECT value FROM settings WHERE name = 'audit.lastFullVerifyResult'")
        .pluck()
        .get() as string;
      expect(JSON.parse(recorded)).toMatchObject({ ok: false, time: at(503).toISOString() });
      setSetting(c.db, FULL_VERIFY_RESULT_SETTING, JSON.stringify({ ok: true }));
    }
  });

  it('a disk I/O error a worker reports (stand-in worker: a failing disk cannot be made here) ends as HOME_IO_ERROR, not a verdict', async () => {
    const c = await signingLog();
    const auditor = await Auditor.open(c.db, c.ports, at(100));
    setSetting(c.db, FULL_VERIFY_RESULT_SETTING, JSON.stringify({ ok: true }));
    const outcome = await auditor
      .verify('newest', at(100), {
        workers: 2,
        rangeSize: RANGE,
        workerUrl: new URL('./fixtures/ioerror-verify-worker.mjs', import.meta.url),
      })
      .then(
        (result) => result,
        (error: unknown) => error,
      );
    // As this thread's path reports the same read failure: the storage error with what to do (exit 7).
    expect(isColdsignError(outcome, 'HOME_IO_ERROR'), JSON.stringify(outcome)).toBe(true);
    // Not an integrity finding: the recorded outcome is left as it was.
    const recorded = c.db.sqlite
      .prepare("SELECT value FROM settings WHERE name = 'audit.lastFullVerifyResult'")
      .pluck()
      .get() as string;
    expect(JSON.parse(recorded)).toEqual({ ok: true });
  });

  it('a worker that throws or exits fails the verification with the reason (fail closed)', async () => {
    const c = await signingLog();
    const auditor = await Auditor.open(c.db, c.ports, at(100));
    for (const file of ['failing-verify-worker.mjs', 'exiting-verify-worker.mjs']) {
      const result = await auditor.verify('newest', at(100), {
        workers: 2,
        rangeSize: RANGE,
        workerUrl: new URL(`./fixtures/${file}`, import.meta.url),
      });
      expect(result.ok).toBe(false);
      expect(result.firstBad?.reason).toMatch(
        /^a verification worker failed \(.+\): the log is not verified$/,
      );
    }
    // The verdict is recorded as a failure; the next good run succeeds.
    expect((await auditor.verify('newest', at(101), { workers: 2, rangeSize: RANGE })).ok).toBe(true);
  });
});
