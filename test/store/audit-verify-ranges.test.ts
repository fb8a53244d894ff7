/**
 * The full verification in ranges (store/audit-verify*.ts): the same verdict, first bad entry and
 * reason whether the log is verified as one range, in small ranges in this thread, or in small
 * ranges spread over worker threads (real threads on a real database); tampering in a later range,
 * at a range boundary or in the velocity rows of a later range is named; a failed worker fails.
 */
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hsm } from '../../hsm/index.js';
import { entryHash } from '../../store/audit-chain.js';
import { Auditor, type AuditVerification } from '../../store/audit.js';
import type { FullVerifyOptions } from '../../store/audit-verify.js';
import { openDatabase } from '../../store/database.js';
import { createTestToken, type TestToken } from '../support/softhsm.js';
import { at, newAuditCase, T0, type AuditCase } from './audit-fixture.js';

let token: TestToken;
let hsm: Hsm;
const cases: AuditCase[] = [];
/** 16 entries per range: the 120 entries below span 8 ranges. */
const RANGE = 16;
const MODES: Record<string, Omit<FullVerifyOptions, 'tables'>> = {
  'one range': { workers: 0 },
  'ranges in this thread': { workers: 0, rangeSize: RANGE },
  'ranges in two worker threads': { workers: 2, rangeSize: RANGE },
};

beforeAll(() => {
  token = createTestToken();
  hsm = token.open();
});
afterAll(() => {
  for (const c of cases) {
    c.db.close();
    rmSync(c.dir, { recursive: true, force: true });
  }
  hsm.close();
  token.cleanup();
});

/**
 * 60 signings: entry 2i−1 starts request r<i>, entry 2i is its signature (one velocity row at seq 2i);
 * a checkpoint every 10 entries; the last request is started and never finished.
 */
async function signingLog(): Promise<AuditCase> {
  const c = await newAuditCase(hsm, 0);
  cases.push(c);
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

function tamper(c: AuditCase, sql: (raw: Database.Database) => void): void {
  c.db.close();
  const raw = new Database(c.path);
  sql(raw);
  raw.close();
  c.db = openDatabase(c.path);
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
    }).toEqual({
      mode,
      ok: first!.ok,
      firstBad: first!.firstBad,
      entries: first!.entries,
      unfinished: first!.unfinishedSignings,
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

  it('an entry edited at the start of a later range is named', async () => {
    const c = await signingLog();
    tamper(c, (raw) =>
      raw.prepare(`UPDATE audit_log SET payload = '{"requestIds":["x"]}' WHERE seq = 81`).run(),
    );
    const result = await verdicts(c);
    expect(result.firstBad).toEqual({
      seq: 81,
      reason: 'entry 81 was modified: its content does not match its hash',
    });
  });

  it('an entry rehashed at the end of a range breaks the link of the next range’s first entry', async () => {
    const c = await signingLog();
    tamper(c, (raw) => {
      const row = raw.prepare('SELECT time, type, prev_hash FROM audit_log WHERE seq = 96').get() as {
        time: string;
        type: string;
        prev_hash: string;
      };
      // The same projection (the velocity row still matches), another hash.
      const payload = '{"extra":1,"requestId":"r48","rule":"daily","spent":{"BTC":"48"},"txid":"t48"}';
      raw
        .prepare('UPDATE audit_log SET payload = ?, hash = ? WHERE seq = 96')
        .run(payload, entryHash(96, row.time, row.type, payload, row.prev_hash));
    });
    const result = await verdicts(c);
    expect(result.firstBad).toEqual({
      seq: 97,
      reason: 'entry 97 does not link to the hash of entry 96: an entry was inserted, deleted or reordered',
    });
  });

  it('a deleted first entry of a range is named as missing', async () => {
    const c = await signingLog();
    tamper(c, (raw) => raw.prepare('DELETE FROM audit_log WHERE seq = 65').run());
    const result = await verdicts(c);
    expect(result.firstBad).toEqual({
      seq: 65,
      reason: 'entry 65 is missing (the next entry found is 66): entries were deleted',
    });
  });

  it('a velocity row edited in a later range is named at its entry', async () => {
    const c = await signingLog();
    tamper(c, (raw) => raw.prepare(`UPDATE velocity SET raw = '999' WHERE seq = 100`).run());
    const result = await verdicts(c);
    expect(result.firstBad).toEqual({
      seq: 100,
      reason:
        'the velocity table does not match the audit log at entry 100: a row was edited, inserted or deleted',
    });
  });

  it('a velocity row deleted at the end of a range is named at its entry', async () => {
    const c = await signingLog();
    tamper(c, (raw) => raw.prepare('DELETE FROM velocity WHERE seq = 64').run());
    const result = await verdicts(c);
    expect(result.firstBad).toEqual({
      seq: 64,
      reason:
        'the velocity table does not match the audit log at entry 64: a row was edited, inserted or deleted',
    });
  });

  it('a velocity row added inside a range is named at the row it displaces', async () => {
    const c = await signingLog();
    tamper(c, (raw) => {
      const link = (raw.prepare('SELECT link FROM velocity WHERE seq = 70').pluck().get() as string) ?? '';
      raw
        .prepare(
          "INSERT INTO velocity (seq, pos, request_id, rule, asset, raw, time_ms, txid, link) VALUES (70, 1, 'r35', 'daily', 'ETH', '5', 0, 't35', ?)",
        )
        .run(link);
    });
    const result = await verdicts(c);
    expect(result.firstBad).toEqual({
      seq: 70,
      reason:
        'the velocity table does not match the audit log at entry 70: a row was edited, inserted or deleted',
    });
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
    void T0;
  });
});
