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

/** One signing operation as the pipeline does it: request, decision, signatures, checkpoint. */
async function signOnce(n: number, sat: bigint, at: Date): Promise<boolean> {
  const requestId = n.toString(16).padStart(64, '0');
  const summary = btcTransfer([{ to: EXCHANGE, sat }]);
  const decision = evaluate(summary, policy, velocityHistoryFor(db, policy, at), at);
  await auditor.assertHeadMatchesToken();
  await auditor.begin();
  recordRequest(db, auditor, { requestId, chain: 'btc', kind: 'psbt', summary }, at);
  recordDecision(db, auditor, requestId, decision, policy.version, at);
  if (decision.allowed) {
    recordSignatures(
      db,
      auditor,
      {
        requestId,
        rule: decision.rule!,
        summary,
        signatures: [{ keyLabel: 'vault-1', signature: '30440220' }],
      },
      at,
    );
  }
  await auditor.checkpoint(at);
  return decision.allowed;
}

describe('records of signing operations', () => {
  it('registers keys with an audit entry', async () => {
    await registerKey(
      db,
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

  it('stores each officer approval once, audited', async () => {
    const requestId = (1).toString(16).padStart(64, '0');
    const approval = {
      type: 'coldsign-approval' as const,
      requestId,
      officer: 'alice',
      createdAt: T.toISOString(),
      signature: 'A'.repeat(86) + '==',
    };
    db.sqlite.prepare("INSERT INTO officers VALUES ('alice', ?, ?)").run('ab'.repeat(32), T.toISOString());
    await auditor.begin();
    recordApprovals(db, auditor, requestId, [approval, approval], T);
    await auditor.checkpoint(T);
    expect(db.sqlite.prepare('SELECT COUNT(*) AS n FROM approvals').get()).toEqual({ n: 1 });
    expect(db.sqlite.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE type = 'approval'").get()).toEqual({
      n: 1,
    });
  });
});
