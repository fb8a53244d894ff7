/**
 * The outpoint ledger as audited state: rows projected from "signature" entries (none from entries written
 * before the field existed, none from malformed members), covered by the state digest only once it has a row
 * (checkpoints signed before it verify unchanged), read one bucket at a time against the index whose root the
 * token's pin holds, replayed by audit verify.
 * Real SQLite and the SoftHSM2 audit key.
 */
import { describe, expect, it } from 'vitest';
import { isColdsignError } from '../../core/errors.js';
import { canonicalJson } from '../../policy/canonical.js';
import { findOutpointConflict, outpointConflictMessage } from '../../policy/outpoint-conflicts.js';
import { Auditor } from '../../store/audit.js';
import { openDatabase } from '../../store/database.js';
import { BUCKET_ROWS, LedgerIndex, outpointBucket, signedOutpoints } from '../../store/outpoint-ledger.js';
import {
  emptyHeads,
  GENESIS_LINK,
  parseHeads,
  projectEntry,
  stateDigest,
  type StateHeads,
} from '../../store/state.js';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { at, tamper, tamperStructure, useAuditToken, type AuditCase } from './audit-fixture.js';

const { fresh } = useAuditToken();

const TXID = 'aa'.repeat(32);
const SCRIPT = '0014' + '11'.repeat(20);
const claim = (outpoint: string, sats: string, script = SCRIPT) => ({
  outpoint,
  sats,
  script,
  keyLabel: 'vault-1',
  sighashType: 1,
});

function signature(requestId: string, outpoints?: unknown) {
  return {
    requestId,
    txid: requestId,
    rule: 'hot',
    signatures: [{ keyLabel: 'vault-1', signature: '30' }],
    spent: { native: '1000' },
    output: null,
    ...(outpoints === undefined ? {} : { outpoints }),
  };
}

const entry = (payload: object) => ({
  seq: 7,
  time: '2026-03-01T12:00:00.000Z',
  type: 'signature',
  payload: canonicalJson(payload),
});

/** The digest as releases before the outpoint ledger computed it: six heads. */
function sixTableDigest(heads: StateHeads): string {
  const { officers, governance, keys, policies, velocity, approvals } = heads;
  const doc = { domain: 'coldsign-state/1', officers, governance, keys, policies, velocity, approvals };
  return createHash('sha256').update(canonicalJson(doc)).digest('hex');
}

describe('projection of "signature" entries', () => {
  it('adds one outpoint row per claim, after the velocity rows', () => {
    const rows = projectEntry(entry(signature('r1', [claim(`${TXID}:0`, '5000'), claim(`${TXID}:1`, '7')])));
    expect(rows.map((r) => r.table)).toEqual(['velocity', 'outpoints', 'outpoints']);
    expect(rows.filter((r) => r.table === 'outpoints').map((r) => [r.pos, r.values])).toEqual([
      [
        0,
        {
          request_id: 'r1',
          outpoint: `${TXID}:0`,
          sats: '5000',
          script: SCRIPT,
          key_label: 'vault-1',
          sighash_type: 1,
        },
      ],
      [1, expect.objectContaining({ outpoint: `${TXID}:1`, sats: '7' })],
    ]);
  });

  it('an entry written before the field existed, or a malformed member, adds no outpoint row and does not throw', () => {
    expect(projectEntry(entry(signature('old'))).map((r) => r.table)).toEqual(['velocity']);
    for (const bad of [null, 'x', 3, {}, [null, 1, 'x', []]])
      expect(projectEntry(entry(signature('bad', bad))).map((r) => r.table)).toEqual(['velocity']);
    const partial = projectEntry(entry(signature('partial', [{ outpoint: 5 }])));
    expect(partial.find((r) => r.table === 'outpoints')?.values).toMatchObject({
      outpoint: null,
      sats: null,
    });
  });
});

describe('projection of "signing.started" entries (the counted announcements)', () => {
  it('takes each request id and outpoints from the request, not from its velocity terms, in order, skipping members without terms', () => {
    const started = {
      seq: 9,
      time: '2026-03-01T12:00:00.250Z',
      type: 'signing.started',
      payload: canonicalJson({
        requests: [
          {
            requestId: 'r1',
            // a velocity object naming another request and outpoints must not decide which request is counted
            velocity: {
              requestId: 'other',
              outpoints: [claim(`${TXID}:9`, '1')],
              rule: 'hot',
              spent: { native: '5', usdc: '7' },
            },
            outpoints: [claim(`${TXID}:0`, '5000')],
          },
          null,
          'x',
          { requestId: 'no-terms', outpoints: [claim(`${TXID}:1`, '1')] },
          {
            requestId: 'r2',
            velocity: { rule: 'cold', txid: 'tx-2' },
            outpoints: [claim(`${TXID}:2`, '9'), 4],
          },
        ],
      }),
    };
    const rows = projectEntry(started);
    const timeMs = Date.parse(started.time);
    expect(rows.map((r) => [r.table, r.seq, r.pos, r.values])).toEqual([
      [
        'velocity',
        9,
        0,
        { request_id: 'r1', rule: 'hot', asset: 'native', raw: '5', time_ms: timeMs, txid: 'r1' },
      ],
      [
        'velocity',
        9,
        1,
        { request_id: 'r1', rule: 'hot', asset: 'usdc', raw: '7', time_ms: timeMs, txid: 'r1' },
      ],
      [
        'velocity',
        9,
        2,
        { request_id: 'r2', rule: 'cold', asset: 'none', raw: '0', time_ms: timeMs, txid: 'tx-2' },
      ],
      ['outpoints', 9, 0, expect.objectContaining({ request_id: 'r1', outpoint: `${TXID}:0`, sats: '5000' })],
      ['outpoints', 9, 1, expect.objectContaining({ request_id: 'r2', outpoint: `${TXID}:2`, sats: '9' })],
    ]);
  });

  it('a "signature" entry written after its announcement was counted (countedAt) projects no row', () => {
    const counted = { ...signature('r3', [claim(`${TXID}:3`, '1')]), countedAt: 5 };
    expect(projectEntry(entry(counted))).toEqual([]);
  });
});

describe("the decision's read of its buckets", () => {
  it('is served by the covering index alone (no table page per row: at 250,000 outpoints a 500-input decision read ~29,000)', () => {
    const db = openDatabase(':memory:');
    try {
      const plan = db.sqlite
        .prepare(`EXPLAIN QUERY PLAN ${BUCKET_ROWS}`)
        .all('[1,2,3]')
        .map((row) => (row as { detail: string }).detail);
      expect(plan, plan.join('; ')).toContain(
        'SEARCH outpoints USING COVERING INDEX outpoints_by_bucket (bucket=?)',
      );
    } finally {
      db.close();
    }
  });
});

describe('the state digest', () => {
  it('is the six-table digest of earlier releases while the ledger is empty, and commits to it once it is not', () => {
    const heads = emptyHeads();
    heads.velocity = 'ab'.repeat(32);
    expect(stateDigest(heads)).toBe(sixTableDigest(heads));
    const withLedger = { ...heads, outpoints: 'cd'.repeat(32) };
    expect(stateDigest(withLedger)).not.toBe(sixTableDigest(heads));
  });

  it('reads heads stored without the ledger (checkpoints of earlier releases) as an empty ledger', () => {
    const { outpoints: _omitted, ...older } = { ...emptyHeads(), keys: 'ef'.repeat(32) };
    expect(parseHeads(JSON.stringify(older))?.outpoints).toBe(GENESIS_LINK);
    expect(parseHeads(JSON.stringify({ ...older, outpoints: 'nope' }))).toBeUndefined();
  });
});

describe('conflicts (pure)', () => {
  const signed = [{ ...claim(`${TXID}:0`, '5000000'), requestId: 'r1' }];
  it('the same claim again is a re-sign; another amount or scriptPubKey is a conflict', () => {
    expect(findOutpointConflict([claim(`${TXID}:0`, '5000000')], signed)).toBeUndefined();
    expect(
      findOutpointConflict([claim(`${TXID}:0`, '5000000', SCRIPT.toUpperCase())], signed),
    ).toBeUndefined();
    expect(findOutpointConflict([claim(`${TXID}:1`, '1')], signed)).toBeUndefined();
    const amount = findOutpointConflict([claim(`${TXID}:0`, '10000')], signed)!;
    expect(outpointConflictMessage(amount)).toBe(
      `Outpoint ${TXID}:0 was signed for 0.05 BTC and this request claims 0.0001 BTC; a second signature under another claim could be the valid one, so nothing is signed.`,
    );
    const script = findOutpointConflict(
      [claim(`${TXID}:0`, '5000000', 'a914' + '22'.repeat(20) + '87')],
      signed,
    )!;
    expect(outpointConflictMessage(script)).toContain('with scriptPubKey 0014');
  });

  it('two inputs of one request claiming one outpoint differently conflict with each other', () => {
    const conflict = findOutpointConflict([claim(`${TXID}:2`, '10'), claim(`${TXID}:2`, '20')], []);
    expect(conflict).toMatchObject({ before: { sats: '10' }, now: { sats: '20' } });
  });

  it('an amount that is not a number of satoshis is quoted, never parsed', () => {
    const odd = [{ ...claim(`${TXID}:0`, '1e9'), requestId: 'r0' }];
    expect(outpointConflictMessage(findOutpointConflict([claim(`${TXID}:0`, '1')], odd)!)).toContain('"1e9"');
  });
});

async function signWith(c: AuditCase, second: number, requestId: string, outpoints?: unknown): Promise<void> {
  await c.auditor.commit(at(second), (tx) => tx.append('signature', signature(requestId, outpoints)));
}

/** Start-up (at `second`) refuses the home: AUDIT_TAMPERED, its message naming `what`. */
async function expectOpenTampered(c: AuditCase, second: number, what: string): Promise<void> {
  await expect(Auditor.open(c.db, c.ports, at(second))).rejects.toMatchObject({
    code: 'AUDIT_TAMPERED',
    message: expect.stringContaining(what),
  });
}

function expectTampered(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    expect(isColdsignError(error) && error.code).toBe('AUDIT_TAMPERED');
    expect((error as Error).message).toContain('outpoints table');
    return;
  }
  throw new Error('expected AUDIT_TAMPERED');
}

describe('the ledger in the audited state (SoftHSM2, SQLite)', () => {
  it('survives a restart, is read by bucket against the index the pin commits to, and audit verify replays it', async () => {
    const c = await fresh(2);
    await signWith(c, 10, 'old-release');
    await signWith(c, 11, 'r1', [claim(`${TXID}:0`, '5000'), claim(`${TXID}:1`, '6000')]);
    await signWith(c, 12, 'r2', [claim(`${TXID}:0`, '5000')]);
    const reopened = await Auditor.open(c.db, c.ports, at(13));
    expect(reopened.stateHeads.outpoints).not.toBe(GENESIS_LINK);
    expect(reopened.ledgerIndex.root()).toBe(c.auditor.ledgerIndex.root());
    expect(reopened.ledgerIndex.root()).not.toBe(LedgerIndex.empty().root());
    const found = signedOutpoints(
      c.db.sqlite,
      reopened.ledgerIndex,
      reopened.head.seq,
      new Set([`${TXID}:0`]),
    );
    expect(found.map((r) => [r.requestId, r.sats])).toEqual([
      ['r1', '5000'],
      ['r2', '5000'],
    ]);
    expect(await reopened.verify('all', at(14))).toMatchObject({ ok: true });
  });

  it("a row deleted, edited or moved out of the outpoint's bucket is found by the read, and named by audit verify", async () => {
    const c = await fresh(2);
    await signWith(c, 10, 'r1', [claim(`${TXID}:0`, '5000')]);
    await signWith(c, 11, 'r2', [claim(`${TXID}:1`, '6000')]);
    await signWith(c, 12, 'r3', [claim(`${TXID}:2`, '7000')]);
    const { ledgerIndex: index, head } = c.auditor;
    const wanted = new Set([`${TXID}:0`]);
    expect(signedOutpoints(c.db.sqlite, index, head.seq, wanted)).toHaveLength(1);
    // A process keeps the rows it verified against an unchanged link (a sign decides twice); a later read, here
    // from the stored links (their root is the pin's, checked at start-up), walks the bucket again.
    expect(LedgerIndex.stored(c.db.sqlite).root()).toBe(index.root());
    const read = () => signedOutpoints(c.db.sqlite, LedgerIndex.stored(c.db.sqlite), head.seq, wanted);
    tamper(c, (raw) => raw.prepare("UPDATE outpoints SET sats = '1' WHERE request_id = 'r1'").run());
    expectTampered(read);
    tamper(c, (raw) =>
      raw.prepare("UPDATE outpoints SET sats = '5000', bucket = bucket + 1 WHERE request_id = 'r1'").run(),
    );
    expectTampered(read);
    tamper(c, (raw) => raw.prepare("DELETE FROM outpoints WHERE request_id = 'r1'").run());
    expectTampered(read);
    expect(signedOutpoints(c.db.sqlite, index, head.seq, wanted).map((r) => r.sats)).toEqual(['5000']);
    // The newest rows are intact and the stored index untouched, so start-up opens; the full verification names it.
    const reopened = await Auditor.open(c.db, c.ports, at(13));
    const verdict = await reopened.verify('newest', at(14));
    expect(verdict.ok).toBe(false);
    expect(verdict.firstBad?.reason).toContain('outpoints table');
  });

  it('a process keeps only the rows it looked for: another coin of a bucket it walked is read, and checked, again', async () => {
    const c = await fresh(2);
    // Two coins in one bucket, and a third elsewhere.
    const first = `${TXID}:0`;
    const sameBucket = Array.from({ length: 20_000 }, (_, i) => `${TXID}:${i + 1}`).find(
      (o) => outpointBucket(o) === outpointBucket(first),
    )!;
    const elsewhere = `${TXID}:${outpointBucket(`${TXID}:1`) === outpointBucket(first) ? 2 : 1}`;
    expect(outpointBucket(elsewhere)).not.toBe(outpointBucket(first));
    await signWith(c, 10, 'r1', [claim(first, '5000'), claim(sameBucket, '6000'), claim(elsewhere, '7000')]);
    await signWith(c, 11, 'r2', [claim(first, '5000')]);
    const { ledgerIndex: index, head } = c.auditor;
    const read = (...coins: string[]) =>
      signedOutpoints(c.db.sqlite, index, head.seq, new Set(coins)).map((r) => [r.requestId, r.sats]);
    expect(read(first)).toEqual([
      ['r1', '5000'],
      ['r2', '5000'],
    ]);
    // The bucket was walked for `first` only: asked for its neighbour, the same index finds the neighbour's row
    // (not an empty answer from what it kept) ...
    expect(read(sameBucket)).toEqual([['r1', '6000']]);
    expect(read(first, sameBucket, elsewhere)).toEqual([
      ['r1', '5000'],
      ['r1', '6000'],
      ['r1', '7000'],
      ['r2', '5000'],
    ]);
    // ... and what a walk kept answers only for the coins it looked for: after an edit of the bucket, the coins
    // already looked for come from the rows verified before it; a coin the walks did not look for (signed or not)
    // walks the bucket again, and the edit is found.
    const unsigned = Array.from({ length: 40_000 }, (_, i) => `${TXID}:${i + 20_001}`).find(
      (o) => outpointBucket(o) === outpointBucket(first),
    )!;
    tamper(c, (raw) => raw.prepare("UPDATE outpoints SET sats = '1' WHERE sats = '6000'").run());
    expect(read(first, sameBucket)).toHaveLength(3);
    expectTampered(() => read(unsigned));
  });

  it('a decision reads every wanted bucket in one pass, and a table rebuilt without STRICT holding a BLOB is refused', async () => {
    const c = await fresh(2);
    // Outpoints in several buckets, two of them signed twice: every bucket is walked, the rows come back oldest first.
    const outpoints = Array.from({ length: 6 }, (_, i) => `${TXID}:${i}`);
    await signWith(
      c,
      10,
      'r1',
      outpoints.map((o, i) => claim(o, String(1000 + i))),
    );
    await signWith(c, 11, 'r2', [claim(outpoints[4]!, '1004'), claim(outpoints[1]!, '1001')]);
    expect(new Set(outpoints.map(outpointBucket)).size).toBeGreaterThan(1);
    const { ledgerIndex: index, head } = c.auditor;
    const read = () =>
      signedOutpoints(c.db.sqlite, LedgerIndex.stored(c.db.sqlite), head.seq, new Set(outpoints));
    expect(read().map((r) => [r.requestId, r.outpoint.slice(-1), r.sats])).toEqual([
      ...outpoints.map((o, i) => ['r1', o.slice(-1), String(1000 + i)]),
      ['r2', '4', '1004'],
      ['r2', '1', '1001'],
    ]);
    tamperStructure(
      c,
      (raw) => {
        raw.exec(`
        ALTER TABLE outpoints RENAME TO outpoints_strict;
        CREATE TABLE outpoints (seq INTEGER NOT NULL, pos INTEGER NOT NULL, request_id TEXT, outpoint TEXT, sats TEXT,
          script TEXT, key_label TEXT, sighash_type INTEGER, link TEXT NOT NULL, bucket INTEGER, PRIMARY KEY (seq, pos));
        INSERT INTO outpoints SELECT * FROM outpoints_strict;
        DROP TABLE outpoints_strict;
        CREATE INDEX outpoints_by_bucket ON outpoints (bucket, seq, pos);
      `);
        raw
          .prepare("UPDATE outpoints SET sats = ? WHERE request_id = 'r2' AND pos = 1")
          .run(Buffer.from('1001'));
      },
      'outpoints',
    );
    expectTampered(read);
    expect(index.root()).toBe(LedgerIndex.stored(c.db.sqlite).root());
  });

  it('a bucket link rewritten to match a deleted row is found at start-up: the pin holds the root', async () => {
    const c = await fresh(2);
    await signWith(c, 10, 'r1', [claim(`${TXID}:0`, '5000')]);
    await signWith(c, 11, 'r2', [claim(`${TXID}:1`, '6000')]);
    await signWith(c, 12, 'r3', [claim(`${TXID}:2`, '7000')]);
    // Not the newest row nor its predecessor: start-up's head check alone would not see it.
    tamper(c, (raw) => {
      raw.prepare("DELETE FROM outpoints WHERE request_id = 'r1'").run();
      LedgerIndex.restoreBuckets(raw as never, [outpointBucket(`${TXID}:0`)]);
    });
    await expectOpenTampered(c, 13, 'outpoints table’s index');
  });

  it('a stored link that is not 64 hex digits is refused at start-up (the root could not tell where it splits)', async () => {
    const c = await fresh(2);
    await signWith(c, 10, 'r1', [claim(`${TXID}:0`, '5000')]);
    tamper(c, (raw) => raw.prepare("UPDATE outpoint_buckets SET link = link || '0'").run());
    await expectOpenTampered(c, 11, 'malformed link');
  });

  it('a pin written before the index: the index is built from the whole table, and the next checkpoint pins it', async () => {
    const c = await fresh(2);
    await signWith(c, 10, 'r1', [claim(`${TXID}:0`, '5000')]);
    const expected = c.auditor.ledgerIndex.root();
    // What a release before the index left: a pin without its root and no stored bucket links.
    const pins = (await c.ports.pins.read()).map(
      (b) => JSON.parse(new TextDecoder().decode(b)) as Record<string, unknown>,
    );
    const newest = pins.reduce((a, b) => (Number(b.gen) > Number(a.gen) ? b : a));
    expect(newest.ledger).toBe(expected);
    delete newest.ledger;
    await c.ports.pins.write(
      new TextEncoder().encode(JSON.stringify({ ...newest, gen: Number(newest.gen) + 1 })),
    );
    tamper(c, (raw) => raw.prepare('DELETE FROM outpoint_buckets').run());
    const reopened = await Auditor.open(c.db, c.ports, at(11));
    expect(reopened.ledgerIndex.root()).toBe(expected);
    expect(LedgerIndex.stored(c.db.sqlite).root()).toBe(expected);
    await signWith({ ...c, auditor: reopened }, 12, 'r2', [claim(`${TXID}:1`, '6000')]);
    const again = await Auditor.open(c.db, c.ports, at(13));
    expect(again.ledgerIndex.root()).toBe(reopened.ledgerIndex.root());
    expect(
      signedOutpoints(c.db.sqlite, again.ledgerIndex, again.head.seq, new Set([`${TXID}:0`, `${TXID}:1`])),
    ).toHaveLength(2);
  });

  it('building the index of a home without ledger rows writes nothing (such a home may be on read-only media)', async () => {
    const c = await fresh(2);
    await signWith(c, 10, 'old-release');
    const readOnly = new Database(c.db.path, { readonly: true });
    try {
      const built = LedgerIndex.fromTable(readOnly as never, GENESIS_LINK, c.auditor.head.seq);
      expect(built.root()).toBe(LedgerIndex.empty().root());
    } finally {
      readOnly.close();
    }
  });

  it('rows of a tail discarded after a crash leave the index as the pin has it', async () => {
    const c = await fresh(2);
    await signWith(c, 10, 'r1', [claim(`${TXID}:0`, '5000')]);
    const before = c.auditor.ledgerIndex.root();
    // A unit of work that never reached its checkpoint (the process died): its rows are discarded at start-up.
    await c.auditor.commit(
      at(11),
      (tx) => tx.append('signature', signature('r2', [claim(`${TXID}:0`, '9000')])),
      {
        checkpoint: false,
      },
    );
    expect(LedgerIndex.stored(c.db.sqlite).root()).not.toBe(before);
    const reopened = await Auditor.open(c.db, c.ports, at(12));
    expect(reopened.ledgerIndex.root()).toBe(before);
    const found = signedOutpoints(
      c.db.sqlite,
      reopened.ledgerIndex,
      reopened.head.seq,
      new Set([`${TXID}:0`]),
    );
    expect(found.map((r) => r.sats)).toEqual(['5000']);
  });

  it('a home whose checkpoints were written without the ledger opens and verifies unchanged', async () => {
    const c = await fresh(3);
    await signWith(c, 10, 'old-release');
    // What an earlier release stored: the heads of six tables (and the same signed digest).
    tamper(c, (raw) => {
      for (const row of raw
        .prepare('SELECT seq, state FROM audit_checkpoints WHERE state IS NOT NULL')
        .all() as Array<{
        seq: number;
        state: string;
      }>) {
        const { outpoints: _dropped, ...older } = JSON.parse(row.state) as Record<string, string>;
        raw
          .prepare('UPDATE audit_checkpoints SET state = ? WHERE seq = ?')
          .run(JSON.stringify(older), row.seq);
      }
    });
    const reopened = await Auditor.open(c.db, c.ports, at(11));
    expect(reopened.stateHeads.outpoints).toBe(GENESIS_LINK);
    expect(await reopened.verify('all', at(12))).toMatchObject({ ok: true });
    reopened.verifyState();
  });
});
