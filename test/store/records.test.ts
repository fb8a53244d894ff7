import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hsm } from '../../hsm/index.js';
import { evaluate } from '../../policy/evaluate.js';
import { parsePolicy } from '../../policy/schema.js';
import { Auditor, auditPublicKeyOf, verifyAudit } from '../../store/audit.js';
import { hsmAuditPorts } from '../../store/audit-hsm.js';
import { openDatabase, type ColdsignDb } from '../../store/database.js';
import {
  recordApprovals,
  recordDecision,
  recordRequest,
  recordSignatures,
  registerKey,
  velocityHistoryFor,
} from '../../store/records.js';
import { BTC, btcTransfer, EXCHANGE, SPEC_POLICY } from '../policy/fixtures.js';
import { createTestToken, type TestToken } from '../support/softhsm.js';

let token: TestToken;
let hsm: Hsm;
let dir: string;
let db: ColdsignDb;
let auditor: Auditor;
const T = new Date('2026-03-02T10:00:00.000Z');
const H = 3_600_000;
const policy = parsePolicy(SPEC_POLICY);

beforeAll(async () => {
  token = createTestToken();
  hsm = token.open();
  dir = mkdtempSync(join(tmpdir(), 'coldsign-records-'));
  db = openDatabase(join(dir, 'coldsign.db'));
  auditor = await Auditor.open(db, await hsmAuditPorts(hsm, { db, create: true }), T);
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
  hsm.close();
  token.cleanup();
});

/** One signing operation as the pipeline does it: request and decision, then signatures, each one unit of work. */
async function signOnce(n: number, sat: bigint, at: Date, txid?: string): Promise<boolean> {
  const requestId = n.toString(16).padStart(64, '0');
  const summary = btcTransfer([{ to: EXCHANGE, sat }]);
  const id = txid ?? requestId;
  const history = velocityHistoryFor(auditor, policy, at).filter((r) => r.txid !== id);
  const decision = evaluate(summary, policy, history, at);
  await auditor.assertHeadMatchesToken();
  await auditor.commit(at, (tx) => {
    recordRequest(tx, { requestId, chain: 'btc', kind: 'psbt', summary }, at);
    recordDecision(tx, requestId, decision, policy.version, at);
    if (decision.allowed) {
      recordSignatures(
        tx,
        {
          requestId,
          txid: id,
          rule: decision.rule!,
          summary,
          signatures: [{ keyLabel: 'vault-1', signature: '30440220' }],
        },
        at,
      );
    }
  });
  return decision.allowed;
}

describe('records of signing operations', () => {
  it('registers keys with an audit entry', async () => {
    await registerKey(
      auditor,
      {
        label: 'vault-1',
        chain: 'btc',
        publicKey: '02' + '11'.repeat(32),
        keyId: '22'.repeat(20),
        address: 'bc1qvault',
        createdAt: T.toISOString(),
      },
      T,
    );
    expect(db.findKey('vault-1')?.address).toBe('bc1qvault');
    expect(
      db.sqlite.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE type = 'key.registered'").get(),
    ).toEqual({ n: 1 });
  });

  it('counts velocity from the signatures in the store, over the rolling window', async () => {
    // 4 × 0.5 BTC fills the 2 BTC / 24h velocity limit; the fifth is refused until the first leaves the window.
    for (let i = 0; i < 4; i += 1)
      expect(await signOnce(i + 1, BTC / 2n, new Date(T.getTime() + i * H))).toBe(true);
    expect(await signOnce(5, 1n, new Date(T.getTime() + 5 * H))).toBe(false);
    expect(await signOnce(6, BTC / 2n, new Date(T.getTime() + 24 * H - 1))).toBe(false);
    expect(await signOnce(7, BTC / 2n, new Date(T.getTime() + 24 * H))).toBe(true);
    const kinds = db.sqlite
      .prepare('SELECT type, COUNT(*) AS n FROM audit_log GROUP BY type ORDER BY type')
      .all();
    expect(kinds).toEqual(
      expect.arrayContaining([
        { type: 'decision', n: 7 },
        { type: 'request', n: 7 },
        { type: 'signature', n: 5 },
      ]),
    );
    expect(verifyAudit(db, auditPublicKeyOf(db)!).ok).toBe(true);
  });

  it('counts a transaction signed again (same txid) once', async () => {
    // the window is full (2 BTC in 24 h after the test above); a re-sign of the last txid adds nothing
    const later = new Date(T.getTime() + 25 * H);
    expect(await signOnce(8, BTC / 2n, later, 'a'.repeat(64))).toBe(true);
    for (let i = 0; i < 3; i += 1) expect(await signOnce(9 + i, BTC / 2n, later, 'a'.repeat(64))).toBe(true);
    // (had they counted, 1.5 + 0.5 + 0.5 BTC would have exceeded the 2 BTC window at the second re-sign)
    const usage = velocityHistoryFor(auditor, policy, later).filter((r) => r.txid === 'a'.repeat(64));
    expect(usage).toHaveLength(4);
    // the window is full with that txid counted once: a new transaction of 1 sat is refused
    expect(await signOnce(12, 1n, later)).toBe(false);
  });

  it('stores each officer approval once, audited', async () => {
    const requestId = (1).toString(16).padStart(64, '0');
    const approval = {
      type: 'coldsign-approval' as const,
      requestId,
      keys: ['vault-1'],
      policyVersion: 7,
      officer: 'alice',
      createdAt: T.toISOString(),
      expiresAt: new Date(T.getTime() + 24 * H).toISOString(),
      signature: 'A'.repeat(86) + '==',
    };
    const at = new Date(T.getTime() + 26 * H);
    await auditor.commit(at, (tx) => recordApprovals(tx, requestId, [approval, approval]));
    await auditor.commit(at, (tx) => recordApprovals(tx, requestId, [approval]));
    expect(db.sqlite.prepare('SELECT COUNT(*) AS n FROM approvals').get()).toEqual({ n: 1 });
    expect(db.sqlite.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE type = 'approval'").get()).toEqual({
      n: 1,
    });
    expect((await auditor.verify()).ok).toBe(true);
  });

  it('stores a request summary as the same JSON its audit entry holds (names needing escapes, unicode)', async () => {
    const requestId = 'ab'.repeat(32);
    const at = new Date('2026-04-01T10:00:00.000Z');
    const summary = {
      ...btcTransfer([{ to: EXCHANGE, sat: 1234n }]),
      warnings: ['quote " and backslash \\ and \u2028 and é', '{"summary":1}'],
    };
    await auditor.commit(at, (tx) =>
      recordRequest(tx, { requestId, chain: 'btc', kind: 'psbt', summary }, at),
    );
    const row = db.sqlite.prepare('SELECT summary FROM requests WHERE request_id = ?').get(requestId) as {
      summary: string;
    };
    const entry = db.sqlite
      .prepare("SELECT payload FROM audit_log WHERE type = 'request' ORDER BY seq DESC LIMIT 1")
      .get() as { payload: string };
    expect(JSON.parse(row.summary)).toEqual(JSON.parse(JSON.stringify(summary)));
    expect(JSON.parse(entry.payload)).toEqual({
      requestId,
      chain: 'btc',
      kind: 'psbt',
      summary: JSON.parse(row.summary),
    });
  });
});
