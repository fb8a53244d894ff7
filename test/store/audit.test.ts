import { copyFileSync, rmSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { isColdsignError, type ErrorCode } from '../../core/errors.js';
import { toHex } from '../../core/bytes.js';
import type { Hsm } from '../../hsm/index.js';
import { canonicalPayload, checkpointDigest, entryHash } from '../../store/audit-chain.js';
import { exportAudit, verifyAuditExport, verifyAuditExportLines } from '../../store/audit-export.js';
import { AUDIT_KEY_LABEL, hsmAuditPorts } from '../../store/audit-hsm.js';
import { appendAudit, Auditor, auditPublicKeyOf, verifyAudit, type AuditPorts } from '../../store/audit.js';
import { recordSigningStarted } from '../../store/records.js';
import { openDatabase } from '../../store/database.js';
import { applyRows, projectEntry, storedHeads } from '../../store/state.js';
import { at, tamper, tamperIndexPages, T0, useAuditToken, type AuditCase } from './audit-fixture.js';
import { recordedDiscards } from '../../store/audit-discards.js';
import { LedgerIndex } from '../../store/outpoint-ledger.js';

const { hsm: testHsm, fresh } = useAuditToken();
let hsm: Hsm;
beforeAll(() => {
  hsm = testHsm();
});

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  try {
    await promise;
    expect.unreachable(`expected ${code}`);
  } catch (error) {
    expect(isColdsignError(error) ? error.code : error).toBe(code);
  }
}

/**
 * Start-up does not re-hash history (its cost must not grow with the log): an edit before the pinned
 * entry is found by the full verification (audit verify), or at start-up when it touches the pin.
 */
async function expectFullVerifyFails(c: AuditCase): Promise<void> {
  let auditor: Auditor;
  try {
    auditor = await Auditor.open(c.db, c.ports, T0);
  } catch (error) {
    expect(isColdsignError(error) ? error.family : error).toBe('integrity');
    return;
  }
  expect((await auditor.verify()).ok).toBe(false);
}

function publicKeyOf(c: AuditCase): string {
  return auditPublicKeyOf(c.db) as string;
}

function entryRow(c: AuditCase, seq: number): { type: string; payload: string; prev: string; hash: string } {
  return c.db.sqlite
    .prepare('SELECT type, payload, prev_hash AS prev, hash FROM audit_log WHERE seq = ?')
    .get(seq) as { type: string; payload: string; prev: string; hash: string };
}

/**
 * Appends entries with plain SQL, as whoever can write the file can: each hash-chained to the head, dated an
 * hour ahead, and its state rows linked to the stored heads. Returns the hash of the last one.
 */
function tamperAppend(c: AuditCase, entries: Array<[string, unknown]>): string {
  let last = '';
  tamper(c, (raw) => {
    for (const [type, payload] of entries) {
      const head = raw.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as {
        seq: number;
        hash: string;
      };
      const seq = head.seq + 1;
      const time = at(3600).toISOString();
      const text = canonicalPayload(payload);
      last = entryHash(seq, time, type, text, head.hash);
      raw
        .prepare('INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?)')
        .run(seq, time, type, text, head.hash, last);
      applyRows(
        raw as never,
        projectEntry({ seq, time, type, payload: text }),
        storedHeads(raw as never),
        LedgerIndex.stored(raw as never),
      );
    }
  });
  return last;
}

/** The case's ports with every pin write counted (what the token was asked to store: seq and open flag). */
function countingPorts(c: AuditCase): { ports: AuditPorts; writes: Array<{ seq: number; open: boolean }> } {
  const writes: Array<{ seq: number; open: boolean }> = [];
  const pins = c.ports.pins;
  return {
    writes,
    ports: {
      signer: c.ports.signer,
      pins: {
        read: () => pins.read(),
        write: async (value) => {
          const pin = JSON.parse(new TextDecoder().decode(value)) as { seq: number; open: boolean };
          writes.push({ seq: pin.seq, open: pin.open });
          await pins.write(value);
        },
      },
    },
  };
}

/** One signing the way the pipeline does it: review (no checkpoint), then "signing.started" checkpointed open. */
async function announceSigning(auditor: Auditor, requestId: string, from: number): Promise<number> {
  await auditor.commit(at(from), (tx) => tx.append('test.review', { requestId }), { checkpoint: false });
  return auditor.commit(
    at(from + 1),
    (tx) => {
      recordSigningStarted(tx, [{ requestId, txid: requestId, signatures: [{ key: 'k' }] }]);
      return auditor.head.seq + 1;
    },
    { checkpoint: 'open' },
  );
}

/**
 * Makes the case a home from before state digests, as an earlier release left it: every checkpoint row re-signed
 * over the digest without state and stored with no heads, and the token's pin the newest of them, open.
 */
async function predateStateDigests(c: AuditCase): Promise<{ seq: number }> {
  const rows = c.db.sqlite
    .prepare('SELECT seq, head_hash AS head, time FROM audit_checkpoints ORDER BY seq')
    .all() as Array<{ seq: number; head: string; time: string }>;
  let newest = { seq: 0, head: '', time: '', signature: '' };
  for (const row of rows) {
    const signature = toHex(await c.ports.signer.sign(checkpointDigest(row.seq, row.head, row.time)));
    c.db.sqlite
      .prepare('UPDATE audit_checkpoints SET signature = ?, state = NULL WHERE seq = ?')
      .run(signature, row.seq);
    newest = { ...row, signature };
  }
  const gens = (await c.ports.pins.read()).map(
    (value) => (JSON.parse(new TextDecoder().decode(value)) as { gen: number }).gen,
  );
  const pin = { ...newest, open: true, gen: Math.max(...gens) + 1 };
  await c.ports.pins.write(new TextEncoder().encode(JSON.stringify(pin)));
  return { seq: newest.seq };
}

describe('audit log on a real database and the SoftHSM audit key', () => {
  it('appends hash-chained entries, signs checkpoints, and verifies', async () => {
    const c = await fresh(8);
    const result = verifyAudit(c.db, publicKeyOf(c));
    expect(result).toMatchObject({ ok: true, entries: 8 });
    expect(result.checkpoints).toBeGreaterThanOrEqual(3);
    expect(await c.auditor.verify()).toMatchObject({ ok: true });
    await expect(c.auditor.assertHeadMatchesToken()).resolves.toMatchObject({ seq: 8 });
    // a second process (restored or not) is compared with the token by verify() as well
    const other = await Auditor.open(c.db, c.ports, T0);
    await other.log('test.entry', { by: 'other' }, at(9));
    await other.checkpoint(at(9));
    await expect(c.auditor.assertHeadMatchesToken()).resolves.toMatchObject({ seq: 9 });
  });

  it('keeps the audit key inside the HSM: sensitive and never extractable', async () => {
    const key = (await hsm.keys.list()).find((k) => k.label === AUDIT_KEY_LABEL);
    expect(key).toBeDefined();
    const protection = await hsm.keys.protection(key!.keyId);
    expect(protection).toMatchObject({ sensitive: true, extractable: false, neverExtractable: true });
  });

  it('stores payloads in RFC 8785 form and refuses fields that could hold a secret', async () => {
    const c = await fresh(0);
    const entry = await c.auditor.log('test.order', { b: 1, a: { d: 'x', c: [2, 1] } }, T0);
    expect(entry.payload).toBe('{"a":{"c":[2,1],"d":"x"},"b":1}');
    expect(entry.hash).toBe(entryHash(1, T0.toISOString(), 'test.order', entry.payload, '0'.repeat(64)));
    await expectCode(c.auditor.log('test.secret', { user: 'op', pin: '1234' }, T0), 'AUDIT_SECRET_REFUSED');
    await expectCode(
      c.auditor.log('test.secret', { nested: { passphrase: 'x' } }, T0),
      'AUDIT_SECRET_REFUSED',
    );
    await c.auditor.checkpoint(T0);
    expect(verifyAudit(c.db, publicKeyOf(c))).toMatchObject({ ok: true, entries: 1 });
  });

  it('refuses an entry time before the last entry with CLOCK_BEHIND_LOG and writes nothing', async () => {
    const c = await fresh(2);
    const before = verifyAudit(c.db, publicKeyOf(c)).entries;
    await expectCode(c.auditor.log('test.entry', { late: true }, at(1)), 'CLOCK_BEHIND_LOG');
    expect(verifyAudit(c.db, publicKeyOf(c))).toMatchObject({ ok: true, entries: before });
    await c.auditor.log('test.entry', { onTime: true }, at(10));
    expect(verifyAudit(c.db, publicKeyOf(c))).toMatchObject({ ok: true, entries: before + 1 });
  });

  it('an edited payload is named by its sequence number, and start-up refuses', async () => {
    const c = await fresh(8);
    tamper(c, (raw) => raw.prepare('UPDATE audit_log SET payload = \'{"n":40}\' WHERE seq = 4').run());
    expect(verifyAudit(c.db, publicKeyOf(c))).toMatchObject({ ok: false, firstBad: { seq: 4 } });
    expect(verifyAudit(c.db, publicKeyOf(c)).firstBad?.reason).toMatch(/entry 4 was modified/);
    await expectFullVerifyFails(c);
  });

  it('an edit with a recomputed hash breaks the link of the next entry', async () => {
    const c = await fresh(8);
    tamper(c, (raw) => {
      const row = raw.prepare('SELECT * FROM audit_log WHERE seq = 5').get() as {
        time: string;
        type: string;
        prev_hash: string;
      };
      const payload = '{"n":500}';
      raw
        .prepare('UPDATE audit_log SET payload = ?, hash = ? WHERE seq = 5')
        .run(payload, entryHash(5, row.time, row.type, payload, row.prev_hash));
    });
    expect(verifyAudit(c.db, publicKeyOf(c))).toMatchObject({ ok: false, firstBad: { seq: 6 } });
    await expectFullVerifyFails(c);
  });

  it('a deleted entry is named', async () => {
    const c = await fresh(8);
    tamper(c, (raw) => raw.prepare('DELETE FROM audit_log WHERE seq = 3').run());
    const result = verifyAudit(c.db, publicKeyOf(c));
    expect(result).toMatchObject({ ok: false, firstBad: { seq: 3 } });
    expect(result.firstBad?.reason).toMatch(/missing/);
    await expectFullVerifyFails(c);
  });

  it('deleting the newest entries is a rollback', async () => {
    const c = await fresh(8);
    tamper(c, (raw) => raw.prepare('DELETE FROM audit_log WHERE seq >= 7').run());
    expect(verifyAudit(c.db, publicKeyOf(c))).toMatchObject({ ok: false, firstBad: { seq: 7 } });
    await expectCode(Auditor.open(c.db, c.ports, T0), 'AUDIT_ROLLBACK');
  });

  it('an inserted entry (renumbering the rest) is named', async () => {
    const c = await fresh(8);
    tamper(c, (raw) => {
      raw.prepare('UPDATE audit_log SET seq = seq + 100 WHERE seq >= 4').run();
      raw.prepare('UPDATE audit_log SET seq = seq - 99 WHERE seq >= 104').run();
      const prev = (raw.prepare('SELECT hash FROM audit_log WHERE seq = 3').get() as { hash: string }).hash;
      const time = at(3).toISOString();
      raw
        .prepare('INSERT INTO audit_log VALUES (4, ?, ?, ?, ?, ?)')
        .run(time, 'test.forged', '{}', prev, entryHash(4, time, 'test.forged', '{}', prev));
    });
    expect(verifyAudit(c.db, publicKeyOf(c))).toMatchObject({ ok: false, firstBad: { seq: 5 } });
    await expectFullVerifyFails(c);
  });

  it('an entry appended outside coldsign, even with a valid hash, is refused', async () => {
    const c = await fresh(8);
    tamper(c, (raw) => {
      const prev = (raw.prepare('SELECT hash FROM audit_log WHERE seq = 8').get() as { hash: string }).hash;
      const time = at(9).toISOString();
      raw
        .prepare('INSERT INTO audit_log VALUES (9, ?, ?, ?, ?, ?)')
        .run(time, 'test.forged', '{}', prev, entryHash(9, time, 'test.forged', '{}', prev));
    });
    expect(verifyAudit(c.db, publicKeyOf(c))).toMatchObject({ ok: false, firstBad: { seq: 9 } });
    expect(verifyAudit(c.db, publicKeyOf(c)).firstBad?.reason).toMatch(/not covered by a signed checkpoint/);
    await expectCode(Auditor.open(c.db, c.ports, T0), 'AUDIT_TAMPERED');
  });

  it('two swapped entries are named', async () => {
    const c = await fresh(8);
    tamper(c, (raw) => {
      raw.prepare('UPDATE audit_log SET seq = 100 WHERE seq = 5').run();
      raw.prepare('UPDATE audit_log SET seq = 5 WHERE seq = 6').run();
      raw.prepare('UPDATE audit_log SET seq = 6 WHERE seq = 100').run();
    });
    expect(verifyAudit(c.db, publicKeyOf(c))).toMatchObject({ ok: false, firstBad: { seq: 5 } });
    await expectFullVerifyFails(c);
  });

  it('a forged checkpoint signature is named', async () => {
    const c = await fresh(8);
    tamper(c, (raw) =>
      raw.prepare('UPDATE audit_checkpoints SET signature = ? WHERE seq = 6').run('11'.repeat(64)),
    );
    expect(verifyAudit(c.db, publicKeyOf(c))).toMatchObject({ ok: false, firstBad: { seq: 6 } });
    // checking only the newest signature still matches every head against the chain
    expect(verifyAudit(c.db, publicKeyOf(c), 'newest').ok).toBe(true);
    tamper(c, (raw) =>
      raw.prepare('UPDATE audit_checkpoints SET signature = ? WHERE seq = 8').run('11'.repeat(64)),
    );
    expect(verifyAudit(c.db, publicKeyOf(c), 'newest')).toMatchObject({ ok: false, firstBad: { seq: 8 } });
    tamper(c, (raw) =>
      raw.prepare('UPDATE audit_checkpoints SET head_hash = ? WHERE seq = 3').run('22'.repeat(32)),
    );
    expect(verifyAudit(c.db, publicKeyOf(c), 'newest')).toMatchObject({ ok: false, firstBad: { seq: 3 } });
  });

  it('restoring an older copy of the database is refused as a rollback', async () => {
    const c = await fresh(4);
    c.db.close();
    copyFileSync(c.path, `${c.path}.old`);
    c.db = openDatabase(c.path);
    c.auditor = await Auditor.open(c.db, c.ports, T0);
    await c.auditor.log('test.entry', { n: 5 }, at(5));
    await c.auditor.checkpoint(at(5));
    c.db.close();
    copyFileSync(`${c.path}.old`, c.path);
    rmSync(`${c.path}-wal`, { force: true });
    rmSync(`${c.path}-shm`, { force: true });
    c.db = openDatabase(c.path);
    // The old copy verifies on its own (it is a genuine past state) ...
    expect(verifyAudit(c.db, publicKeyOf(c))).toMatchObject({ ok: true });
    // ... but the token's pin is newer: start-up and the pre-signature check refuse.
    await expectCode(Auditor.open(c.db, c.ports, T0), 'AUDIT_ROLLBACK');
  });

  it('a database from another token (or a token with no pin) is refused', async () => {
    const c = await fresh(3);
    const ports = await hsmAuditPorts(hsm, { db: c.db, pinLabel: 'test-pin-empty' });
    await expectCode(Auditor.open(c.db, ports, T0), 'AUDIT_ROLLBACK');
  });

  it('discards entries left beyond the pin by a crash inside begin()…checkpoint(): no signed checkpoint covers them', async () => {
    const c = await fresh(3);
    await c.auditor.commit(
      at(4),
      (tx) => {
        tx.append('test.entry', { n: 4 });
        tx.append('test.entry', { n: 5 });
      },
      { checkpoint: false },
    );
    const fifth = entryRow(c, 5);
    // no checkpoint: as if the process died here
    const reopened = await Auditor.open(c.db, c.ports, at(6));
    const result = verifyAudit(c.db, publicKeyOf(c));
    expect(result).toMatchObject({ ok: true, entries: 4 });
    expect(
      c.db.sqlite
        .prepare('SELECT COUNT(*) AS n FROM audit_log WHERE seq IN (4, 5) AND type = ?')
        .get('test.entry'),
    ).toEqual({ n: 0 });
    expect(entryRow(c, 4)).toMatchObject({ type: 'audit.discarded', prev: entryRow(c, 3).hash });
    expect(JSON.parse(entryRow(c, 4).payload)).toEqual({
      pinnedSeq: 3,
      discardedFrom: 4,
      discardedTo: 5,
      discardedHead: fifth.hash,
      types: [{ type: 'test.entry', count: 2 }],
    });
    await expect(reopened.assertHeadMatchesToken()).resolves.toMatchObject({ seq: 4 });
    // start-up says what it dropped (no signing was announced at the pinned entry)
    expect(reopened.interruption).toEqual({
      discard: { seq: 4, detail: JSON.parse(entryRow(c, 4).payload) },
    });
    // a start-up with nothing left to discard has nothing to say
    expect((await Auditor.open(c.db, c.ports, at(7))).interruption).toBeUndefined();
    // the checkpoint over the discard closed the pin: an entry added now is refused, not discarded
    appendAudit(c.db, 'test.forged', { by: 'bypass' }, at(7));
    await expectCode(Auditor.open(c.db, c.ports, at(8)), 'AUDIT_TAMPERED');
  });

  it('state entries forged beyond an open pin, with their state rows, are discarded, not adopted', async () => {
    const c = await fresh(3);
    const auditor = await Auditor.open(c.db, c.ports, at(4));
    await auditor.log('officer.enrolled', { name: 'alice', publicKey: 'aa'.repeat(32) }, at(4));
    // a unit of work opens the pin and appends an entry; the process dies before its checkpoint
    await auditor.commit(at(5), (tx) => tx.append('test.review', { requestId: 'r' }), { checkpoint: false });
    const pinnedSeq = 4;
    // whoever can write the file appends well-chained entries and their linked state rows, dated far ahead
    const forgedHead = tamperAppend(c, [
      ['officer.enrolled', { name: 'mallory', publicKey: 'bb'.repeat(32) }],
      ['governance.quorum', { quorum: 1, officers: ['alice', 'mallory'] }],
      ['Not-An-Entry-Type', { any: 'thing' }],
    ]);
    const reopened = await Auditor.open(c.db, c.ports, at(10));
    expect(c.db.sqlite.prepare('SELECT name FROM officers').all()).toEqual([{ name: 'alice' }]);
    expect(c.db.sqlite.prepare('SELECT COUNT(*) AS n FROM governance').get()).toEqual({ n: 0 });
    expect(JSON.parse(entryRow(c, pinnedSeq + 1).payload)).toEqual({
      pinnedSeq,
      discardedFrom: pinnedSeq + 1,
      discardedTo: pinnedSeq + 4,
      discardedHead: forgedHead,
      types: [
        { type: null, count: 1 },
        { type: 'governance.quorum', count: 1 },
        { type: 'officer.enrolled', count: 1 },
        { type: 'test.review', count: 1 },
      ],
    });
    expect(reopened.head.seq).toBe(pinnedSeq + 1);
    expect(await reopened.verify()).toMatchObject({ ok: true, entries: pinnedSeq + 1 });
  });

  it('a discard hidden from the log’s type index by an edit of its pages (below SQL) fails the verification at that entry', async () => {
    const c = await fresh(3);
    await c.auditor.commit(at(4), (tx) => tx.append('test.entry', { n: 4 }), { checkpoint: false });
    const reopened = await Auditor.open(c.db, c.ports, at(6));
    expect(entryRow(c, 4)).toMatchObject({ type: 'audit.discarded' });
    expect(await reopened.verify()).toMatchObject({ ok: true, listed: [4] });
    // Same length: SQLite reads the index as sound, and the entry itself (its type, its hash) is unchanged.
    expect(tamperIndexPages(c, 'audit_log_by_type', 'audit.discarded', 'audit.discardeX')).toBe(1);
    expect(entryRow(c, 4)).toMatchObject({ type: 'audit.discarded' });
    // What `audit verify` would list through the index no longer shows the discard.
    expect(recordedDiscards(c.db)).toEqual([]);
    const result = await (await Auditor.open(c.db, c.ports, at(7))).verify();
    expect(result).toMatchObject({ ok: false, firstBad: { seq: 4 } });
    expect(result.firstBad?.reason).toMatch(
      /^the log's type index \(audit_log_by_type\) disagrees with its entries at entry 4: the database file was edited outside SQLite/,
    );
  });

  it('an entry made to look like a discard in the type index alone fails the verification at that entry', async () => {
    const c = await fresh(3);
    // A type that sorts next to "audit.discarded", so that the edited cell stays in the index's order.
    await c.auditor.log('audit.discardee', { n: 4 }, at(4));
    expect(tamperIndexPages(c, 'audit_log_by_type', 'audit.discardee', 'audit.discarded')).toBe(1);
    expect(recordedDiscards(c.db).map((d) => d.seq)).toEqual([]);
    expect(
      c.db.sqlite.prepare("SELECT seq FROM audit_log WHERE type = 'audit.discarded'").pluck().all(),
    ).toEqual([4]);
    const result = await (await Auditor.open(c.db, c.ports, at(5))).verify();
    expect(result).toMatchObject({ ok: false, firstBad: { seq: 4 } });
  });

  it('a tail beyond an open pin that does not chain is tampering: refused, and nothing is deleted', async () => {
    const c = await fresh(3);
    await c.auditor.commit(at(4), (tx) => tx.append('test.entry', { n: 4 }), { checkpoint: false });
    tamperAppend(c, [['officer.enrolled', { name: 'mallory', publicKey: 'bb'.repeat(32) }]]);
    tamper(c, (raw) => raw.prepare('UPDATE audit_log SET payload = \'{"n":40}\' WHERE seq = 4').run());
    await expectCode(Auditor.open(c.db, c.ports, at(6)), 'AUDIT_TAMPERED');
    expect(c.db.sqlite.prepare('SELECT MAX(seq) AS seq FROM audit_log').get()).toEqual({ seq: 5 });
    expect(c.db.sqlite.prepare('SELECT COUNT(*) AS n FROM officers').get()).toEqual({ n: 1 });
  });

  it('a state table that does not match the pin is tampering even with a tail to discard: refused, nothing deleted', async () => {
    const c = await fresh(3);
    const auditor = await Auditor.open(c.db, c.ports, at(4));
    await auditor.log('officer.enrolled', { name: 'alice', publicKey: 'aa'.repeat(32) }, at(4));
    await auditor.commit(at(5), (tx) => tx.append('test.entry', { n: 5 }), { checkpoint: false });
    tamper(c, (raw) => raw.prepare("UPDATE officers SET name = 'mallory' WHERE seq = 4").run());
    await expectCode(Auditor.open(c.db, c.ports, at(6)), 'AUDIT_TAMPERED');
    expect(c.db.sqlite.prepare('SELECT MAX(seq) AS seq FROM audit_log').get()).toEqual({ seq: 5 });
    expect(
      c.db.sqlite.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE type = 'audit.discarded'").get(),
    ).toEqual({
      n: 0,
    });
  });

  it('a checkpoint signed but never pinned (a crash inside the pin write) is discarded with the entries it covers', async () => {
    const c = await fresh(3);
    let failing = true;
    const ports: AuditPorts = {
      signer: c.ports.signer,
      pins: {
        read: () => c.ports.pins.read(),
        // the begin is written; the closing checkpoint's pin write dies
        write: (value) =>
          failing && (JSON.parse(new TextDecoder().decode(value)) as { open: boolean }).open === false
            ? Promise.reject(new Error('killed during the pin write'))
            : c.ports.pins.write(value),
      },
    };
    const auditor = await Auditor.open(c.db, ports, at(4));
    await expect(auditor.commit(at(4), (tx) => tx.append('test.entry', { n: 4 }))).rejects.toThrow(/killed/);
    failing = false;
    expect(c.db.sqlite.prepare('SELECT MAX(seq) AS seq FROM audit_checkpoints').get()).toEqual({ seq: 4 });
    const fourth = entryRow(c, 4);
    await Auditor.open(c.db, c.ports, at(5));
    expect(entryRow(c, 4)).toMatchObject({ type: 'audit.discarded' });
    expect(JSON.parse(entryRow(c, 4).payload)).toMatchObject({ discardedHead: fourth.hash });
    const checkpoint = c.db.sqlite
      .prepare('SELECT head_hash AS head FROM audit_checkpoints WHERE seq = 4')
      .get();
    expect(checkpoint).toEqual({ head: entryRow(c, 4).hash });
    expect(verifyAudit(c.db, publicKeyOf(c), 'all')).toMatchObject({ ok: true, entries: 4 });
  });

  it('a crash between a discard and its checkpoint: the next start-up discards the "audit.discarded" entry too and carries its detail forward', async () => {
    const c = await fresh(3);
    // The pin write of every closing checkpoint dies while `dying` is set: a start-up killed after its discard.
    let dying = false;
    const ports: AuditPorts = {
      signer: c.ports.signer,
      pins: {
        read: () => c.ports.pins.read(),
        write: (value) =>
          dying && (JSON.parse(new TextDecoder().decode(value)) as { open: boolean }).open === false
            ? Promise.reject(new Error('killed during the pin write'))
            : c.ports.pins.write(value),
      },
    };
    await c.auditor.commit(at(4), (tx) => tx.append('test.entry', { n: 4 }), { checkpoint: false });
    await c.auditor.commit(at(5), (tx) => tx.append('test.entry', { n: 5 }), { checkpoint: false });
    const fifth = entryRow(c, 5);
    dying = true;
    await expect(Auditor.open(c.db, ports, at(6))).rejects.toThrow(/killed/);
    const first = { pinnedSeq: 3, discardedFrom: 4, discardedTo: 5, discardedHead: fifth.hash };
    expect(entryRow(c, 4).type).toBe('audit.discarded');
    expect(JSON.parse(entryRow(c, 4).payload)).toEqual({
      ...first,
      types: [{ type: 'test.entry', count: 2 }],
    });
    const firstDiscard = entryRow(c, 4);
    // The same again: the second discard's entry is left beyond the pin as well.
    await expect(Auditor.open(c.db, ports, at(7))).rejects.toThrow(/killed/);
    const second = { pinnedSeq: 3, discardedFrom: 4, discardedTo: 4, discardedHead: firstDiscard.hash };
    expect(JSON.parse(entryRow(c, 4).payload)).toEqual({
      ...second,
      types: [{ type: 'audit.discarded', count: 1 }],
      earlierDiscards: [{ ...first, types: [{ type: 'test.entry', count: 2 }] }],
    });
    const secondDiscard = entryRow(c, 4);
    dying = false;
    const reopened = await Auditor.open(c.db, ports, at(8));
    // Every earlier detail is kept, oldest first, flat.
    expect(JSON.parse(entryRow(c, 4).payload)).toEqual({
      pinnedSeq: 3,
      discardedFrom: 4,
      discardedTo: 4,
      discardedHead: secondDiscard.hash,
      types: [{ type: 'audit.discarded', count: 1 }],
      earlierDiscards: [
        { ...first, types: [{ type: 'test.entry', count: 2 }] },
        { ...second, types: [{ type: 'audit.discarded', count: 1 }] },
      ],
    });
    expect(await reopened.verify()).toMatchObject({ ok: true, entries: 4 });
  });

  it('a home from before state digests with a tail beyond its open pin: the tail is discarded, the log up to the pin verified whole and the state rebuilt', async () => {
    const c = await fresh(3);
    await c.auditor.log('officer.enrolled', { name: 'alice', publicKey: 'aa'.repeat(32) }, at(4));
    const pinned = await predateStateDigests(c);
    expect(pinned.seq).toBe(4);
    const forgedHead = tamperAppend(c, [
      ['officer.enrolled', { name: 'mallory', publicKey: 'bb'.repeat(32) }],
      ['test.entry', { n: 6 }],
    ]);
    const reopened = await Auditor.open(c.db, c.ports, at(7200));
    expect(entryRow(c, 5).type).toBe('audit.discarded');
    expect(JSON.parse(entryRow(c, 5).payload)).toEqual({
      pinnedSeq: 4,
      discardedFrom: 5,
      discardedTo: 6,
      discardedHead: forgedHead,
      types: [
        { type: 'officer.enrolled', count: 1 },
        { type: 'test.entry', count: 1 },
      ],
    });
    expect(c.db.sqlite.prepare('SELECT name FROM officers').all()).toEqual([{ name: 'alice' }]);
    expect(reopened.interruption).toEqual({
      discard: { seq: 5, detail: JSON.parse(entryRow(c, 5).payload) },
    });
    expect(reopened.head.seq).toBe(5);
    expect(await reopened.verify('all')).toMatchObject({ ok: true, entries: 5 });
    // the checkpoint over the discard commits to the state and closes the pin: an entry added now is refused
    appendAudit(c.db, 'test.forged', { by: 'bypass' }, at(7300));
    await expectCode(Auditor.open(c.db, c.ports, at(7400)), 'AUDIT_TAMPERED');
  });

  /**
   * A case with `count` officers enrolled at entry 4 onwards, made a home from before state digests whose officers
   * table was emptied (start-up must rebuild it from the log); the officers as they were, and a reader of the table.
   */
  async function legacyHomeWithOfficers(count: number) {
    const c = await fresh(3);
    await c.auditor.commit(at(4), (tx) => {
      for (let i = 0; i < count; i += 1)
        tx.append('officer.enrolled', { name: `officer-${i}`, publicKey: i.toString(16).padStart(64, '0') });
    });
    const officers = () => c.db.sqlite.prepare('SELECT * FROM officers ORDER BY seq, pos').all();
    const before = officers();
    expect(before).toHaveLength(count);
    await predateStateDigests(c);
    tamper(c, (raw) => raw.prepare('DELETE FROM officers').run());
    return { c, officers, before };
  }

  it('a home from before state digests with no tail: its state is rebuilt from every state entry (more than a page of them)', async () => {
    const { c, officers, before } = await legacyHomeWithOfficers(1001);
    const reopened = await Auditor.open(c.db, c.ports, at(5));
    expect(officers()).toEqual(before);
    expect(await reopened.verify('all')).toMatchObject({ ok: true, entries: 1004 });
  });

  it('a home from before state digests: a state entry hidden from the type index (below SQL) is still replayed', async () => {
    const { c, officers, before } = await legacyHomeWithOfficers(3);
    expect(tamperIndexPages(c, 'audit_log_by_type', 'officer.enrolled', 'officer.enrolleX')).toBe(3);
    // Read through the index, the log has no enrolment: a rebuild that trusted it would leave no officer.
    expect(
      c.db.sqlite.prepare("SELECT COUNT(*) FROM audit_log WHERE type = 'officer.enrolled'").pluck().get(),
    ).toBe(0);
    await Auditor.open(c.db, c.ports, at(5));
    expect(officers()).toEqual(before);
  });

  it('a home from before state digests whose log does not verify up to its open pin: refused, and the tail is not deleted', async () => {
    const c = await fresh(3);
    await predateStateDigests(c);
    tamperAppend(c, [['test.entry', { n: 4 }]]);
    tamper(c, (raw) => raw.prepare('UPDATE audit_log SET payload = \'{"n":20}\' WHERE seq = 2').run());
    await expectCode(Auditor.open(c.db, c.ports, at(7200)), 'AUDIT_TAMPERED');
    expect(c.db.sqlite.prepare('SELECT MAX(seq) AS seq FROM audit_log').get()).toEqual({ seq: 4 });
    expect(
      c.db.sqlite.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE type = 'audit.discarded'").get(),
    ).toEqual({ n: 0 });
  });

  it('logs of earlier releases with "audit.recovered" entries still verify, here and exported', async () => {
    const c = await fresh(3);
    await c.auditor.log('audit.recovered', { pinnedSeq: 3, unpinnedFrom: 4, unpinnedTo: 4 }, at(5));
    expect(verifyAudit(c.db, publicKeyOf(c))).toMatchObject({ ok: true, entries: 4 });
    expect(await (await Auditor.open(c.db, c.ports, at(6))).verify()).toMatchObject({ ok: true });
    expect(verifyAuditExport(exportAudit(c.db, at(6)), publicKeyOf(c))).toMatchObject({
      ok: true,
      entries: 4,
    });
  });

  it('a signing writes the pin three times: begin, the open checkpoint of "signing.started", the closing checkpoint', async () => {
    const c = await fresh(3);
    const { ports, writes } = countingPorts(c);
    const auditor = await Auditor.open(c.db, ports, at(4));
    const started = await announceSigning(auditor, 'r1', 5);
    // "signing.started" is covered by a signed checkpoint pinned before any signature could be asked for
    expect(writes).toEqual([
      { seq: 3, open: true },
      { seq: started, open: true },
    ]);
    await auditor.commit(at(7), (tx) => tx.append('signature', { requestId: 'r1', signatures: [] }));
    expect(writes).toEqual([
      { seq: 3, open: true },
      { seq: started, open: true },
      { seq: started + 1, open: false },
    ]);
    const result = verifyAudit(c.db, publicKeyOf(c));
    expect(result).toMatchObject({ ok: true, entries: started + 1 });
    expect(result.unfinishedSignings).toBeUndefined();
  });

  it('a begin started ahead is the begin of the next commit: still one write, made before the first entry', async () => {
    const c = await fresh(3);
    const { ports, writes } = countingPorts(c);
    const auditor = await Auditor.open(c.db, ports, at(4));
    auditor.beginAhead();
    auditor.beginAhead();
    const started = await announceSigning(auditor, 'r5', 5);
    expect(writes).toEqual([
      { seq: 3, open: true },
      { seq: started, open: true },
    ]);
    // the commit has used it: nothing to withdraw
    await auditor.withdrawBegin();
    expect(writes).toHaveLength(2);
  });

  it('a begin started ahead and followed by no entry is withdrawn: the same checkpoint pinned closed again', async () => {
    const c = await fresh(3);
    const { ports, writes } = countingPorts(c);
    const auditor = await Auditor.open(c.db, ports, at(4));
    auditor.beginAhead();
    await auditor.withdrawBegin();
    expect(writes).toEqual([
      { seq: 3, open: true },
      { seq: 3, open: false },
    ]);
    // closed: start-up has nothing to close, and an entry added outside coldsign is refused, not adopted
    const reopened = await Auditor.open(c.db, ports, at(5));
    expect(writes).toHaveLength(2);
    expect(reopened.head.seq).toBe(3);
    appendAudit(c.db, 'test.forged', { by: 'bypass' }, at(6));
    await expectCode(Auditor.open(c.db, c.ports, at(7)), 'AUDIT_TAMPERED');
  });

  it('a commit that fails after a begin started ahead leaves nothing appended, and the begin is withdrawn', async () => {
    const c = await fresh(3);
    const { ports, writes } = countingPorts(c);
    const auditor = await Auditor.open(c.db, ports, at(4));
    auditor.beginAhead();
    // CLOCK_BEHIND_LOG is refused before anything is written to the database
    await expectCode(
      auditor.commit(at(1), (tx) => tx.append('test.entry', {})),
      'CLOCK_BEHIND_LOG',
    );
    await auditor.withdrawBegin();
    expect(writes).toEqual([
      { seq: 3, open: true },
      { seq: 3, open: false },
    ]);
    expect(verifyAudit(c.db, publicKeyOf(c))).toMatchObject({ ok: true, entries: 3 });
  });

  it('killed after the open checkpoint, before the signatures: start-up closes the pin and names the signing unfinished', async () => {
    const c = await fresh(3);
    const started = await announceSigning(c.auditor, 'r2', 4);
    // as if the process died here (after the HSM may have signed)
    const reopened = await Auditor.open(c.db, c.ports, at(6));
    expect(reopened.head.seq).toBe(started);
    const result = verifyAudit(c.db, publicKeyOf(c));
    expect(result).toMatchObject({ ok: true, entries: started });
    expect(result.unfinishedSignings).toEqual([{ seq: started, requestIds: ['r2'] }]);
    expect(reopened.interruption).toEqual({ signing: { seq: started, requestIds: ['r2'] } });
    // the pin is closed again: an entry added outside coldsign is refused, not adopted
    appendAudit(c.db, 'test.forged', { by: 'bypass' }, at(7));
    await expectCode(Auditor.open(c.db, c.ports, at(8)), 'AUDIT_TAMPERED');
  });

  it('killed after the signatures were appended beyond the open checkpoint: start-up discards them, the signing is unfinished', async () => {
    const c = await fresh(3);
    const started = await announceSigning(c.auditor, 'r3', 4);
    await c.auditor.commit(at(6), (tx) => tx.append('signature', { requestId: 'r3', signatures: [] }), {
      checkpoint: false,
    });
    const signature = entryRow(c, started + 1);
    expect(c.db.sqlite.prepare('SELECT COUNT(*) AS n FROM velocity WHERE seq > ?').get(started)).toEqual({
      n: 1,
    });
    // no closing checkpoint: as if the process died here
    const reopened = await Auditor.open(c.db, c.ports, at(7));
    const last = c.db.sqlite.prepare('SELECT type, payload FROM audit_log ORDER BY seq DESC LIMIT 1').get();
    expect(last).toEqual({
      type: 'audit.discarded',
      payload: JSON.stringify({
        discardedFrom: started + 1,
        discardedHead: signature.hash,
        discardedTo: started + 1,
        pinnedSeq: started,
        types: [{ count: 1, type: 'signature' }],
      }),
    });
    // its velocity row went with it
    expect(c.db.sqlite.prepare('SELECT COUNT(*) AS n FROM velocity WHERE seq > ?').get(started)).toEqual({
      n: 0,
    });
    const result = verifyAudit(c.db, publicKeyOf(c));
    expect(result).toMatchObject({ ok: true, entries: started + 1 });
    expect(result.unfinishedSignings).toEqual([{ seq: started, requestIds: ['r3'] }]);
    expect(reopened.interruption).toEqual({
      signing: { seq: started, requestIds: ['r3'] },
      discard: { seq: started + 1, detail: JSON.parse((last as { payload: string }).payload) },
    });
    expect(await reopened.verify()).toMatchObject({
      ok: true,
      unfinishedSignings: [{ seq: started, requestIds: ['r3'] }],
    });
  });

  it('"signing.started" under an open checkpoint cannot be removed: deleting it is a rollback', async () => {
    const c = await fresh(3);
    const started = await announceSigning(c.auditor, 'r4', 4);
    tamper(c, (raw) => raw.prepare('DELETE FROM audit_log WHERE seq = ?').run(started));
    await expectCode(Auditor.open(c.db, c.ports, at(6)), 'AUDIT_ROLLBACK');
  });

  it('refuses to sign when another writer changed the head after this process checked it', async () => {
    const c = await fresh(3);
    const other = await Auditor.open(c.db, c.ports, T0);
    await other.log('test.entry', { by: 'other' }, at(4));
    await expect(c.auditor.assertHeadMatchesToken()).resolves.toMatchObject({ seq: 4 });
    await c.auditor.commit(at(5), (tx) => tx.append('test.entry', { by: 'first' }), { checkpoint: false });
    // the other process's view is now stale: it refuses to append after an entry it did not write
    await expectCode(
      other.commit(at(6), (tx) => tx.append('test.entry', { by: 'other' })),
      'AUDIT_ROLLBACK',
    );
    expect(c.db.sqlite.prepare('SELECT MAX(seq) AS seq FROM audit_log').get()).toEqual({ seq: 5 });
    // a writer that bypasses the auditor makes the head unknown: no checkpoint is signed over it
    appendAudit(c.db, 'test.forged', { by: 'bypass' }, at(7));
    await expectCode(c.auditor.checkpoint(at(7)), 'AUDIT_ROLLBACK');
    await expectCode(c.auditor.assertHeadMatchesToken(), 'AUDIT_ROLLBACK');
  });
});

describe('audit export', () => {
  it('verifies offline with only the export text', async () => {
    const c = await fresh(6);
    const text = exportAudit(c.db, T0);
    const result = verifyAuditExport(text);
    expect(result).toMatchObject({ ok: true, entries: 6, auditPublicKey: publicKeyOf(c) });
    expect(verifyAuditExport(text, publicKeyOf(c)).ok).toBe(true);
    expect(text.split('\n')[0]).toContain('"format":"coldsign-audit-export/1"');
  });

  it('a modified, truncated or re-keyed export does not verify', async () => {
    const c = await fresh(6);
    const text = exportAudit(c.db, T0);
    const lines = text.trimEnd().split('\n');
    const edited = text.replace('"note":"entry 3"', '"note":"entry 33"');
    expect(verifyAuditExport(edited)).toMatchObject({ ok: false, firstBad: { seq: 3 } });
    const first = lines.findIndex((line) => line.startsWith('{"seq":'));
    const dropped = [...lines.slice(0, first + 2), ...lines.slice(first + 3)].join('\n');
    expect(verifyAuditExport(dropped)).toMatchObject({ ok: false, firstBad: { seq: 3 } });
    const swapped = [
      ...lines.slice(0, first),
      lines[first + 1],
      lines[first],
      ...lines.slice(first + 2),
    ].join('\n');
    expect(verifyAuditExport(swapped)).toMatchObject({ ok: false, firstBad: { seq: 1 } });
    const truncated = lines.slice(0, -1).join('\n');
    expect(verifyAuditExport(truncated).ok).toBe(false);
    const lateCheckpoint = [lines[0], ...lines.slice(first), ...lines.slice(1, first)].join('\n');
    expect(() => verifyAuditExport(lateCheckpoint)).toThrow(
      expect.objectContaining({ code: 'AUDIT_EXPORT_INVALID' }),
    );
    expect(verifyAuditExportLines(lines).ok).toBe(true);
    const otherKey = text.replace(publicKeyOf(c), '02' + toHex(new Uint8Array(32).fill(7)));
    expect(verifyAuditExport(otherKey).ok).toBe(false);
    expect(() => verifyAuditExport(text, '03' + 'aa'.repeat(32))).toThrow(
      expect.objectContaining({ code: 'AUDIT_CHECKPOINT_INVALID' }),
    );
    expect(() => verifyAuditExport('not json\n')).toThrow(
      expect.objectContaining({ code: 'AUDIT_EXPORT_INVALID' }),
    );
  });
});
