/**
 * The records of a signing operation, each written together with its audit entry in one
 * transaction: request, decision, approvals, signatures (with velocity history). Every call needs
 * `await auditor.begin()` first and an `await auditor.checkpoint(now)` before any output is written.
 */
import { makeError } from '../core/errors.js';
import type { Chain, KeyRecord } from '../core/signer.js';
import type { Decision, RequestKind, SigningSummary } from '../core/summary.js';
import type { Approval } from '../policy/approvals.js';
import { requestTotals } from '../policy/amounts.js';
import type { PolicyDocument } from '../policy/schema.js';
import { windowMs, type VelocityHistory, type VelocityRecord } from '../policy/velocity.js';
import type { Auditor } from './audit.js';
import type { ColdsignDb } from './database.js';

export interface RequestRecord {
  requestId: string;
  chain: Chain;
  kind: RequestKind;
  summary: SigningSummary | Record<string, unknown>;
  /** The canonical request bytes (their sha-256 is the request id), when kept. */
  canonical?: Uint8Array;
}

export interface SignatureRecord {
  keyLabel: string;
  /** Hex signature (DER for Bitcoin, r‖s‖v for EVM). */
  signature: string;
}

export interface SignedOutput {
  path: string;
  /** sha-256 hex of the output bytes, computed before they are written. */
  digest: string;
}

/** Records a request (once; a request seen again is audited again) and its audit entry. */
export function recordRequest(db: ColdsignDb, auditor: Auditor, request: RequestRecord, now: Date): void {
  if (!/^[0-9a-f]{64}$/.test(request.requestId))
    throw makeError('INTERNAL', 'A request id is 64 lower-case hex characters.');
  db.transaction(() => {
    db.sqlite
      .prepare(
        'INSERT OR IGNORE INTO requests (request_id, chain, kind, summary, canonical, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(
        request.requestId,
        request.chain,
        request.kind,
        JSON.stringify(request.summary),
        request.canonical ?? null,
        now.toISOString(),
      );
    auditor.append(
      'request',
      { requestId: request.requestId, chain: request.chain, kind: request.kind, summary: request.summary },
      now,
    );
  });
}

export function recordDecision(
  db: ColdsignDb,
  auditor: Auditor,
  requestId: string,
  decision: Decision,
  policyVersion: number | null,
  now: Date,
): void {
  db.transaction(() => {
    db.sqlite
      .prepare(
        'INSERT INTO decisions (request_id, allowed, rule, required_approvals, reasons, policy_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        requestId,
        decision.allowed ? 1 : 0,
        decision.rule,
        decision.requiredApprovals,
        JSON.stringify(decision.reasons),
        policyVersion,
        now.toISOString(),
      );
    auditor.append('decision', { requestId, policyVersion, ...decision }, now);
  });
}

/** Stores verified approvals (policy/approvals verifyApprovals first); the same officer is kept once. */
export function recordApprovals(
  db: ColdsignDb,
  auditor: Auditor,
  requestId: string,
  approvals: readonly Approval[],
  now: Date,
): void {
  db.transaction(() => {
    for (const approval of approvals) {
      if (approval.requestId !== requestId)
        throw makeError('APPROVAL_INVALID', `The approval by "${approval.officer}" is for another request.`);
      const inserted = db.sqlite
        .prepare(
          'INSERT OR IGNORE INTO approvals (request_id, officer, signature, created_at) VALUES (?, ?, ?, ?)',
        )
        .run(requestId, approval.officer, approval.signature, approval.createdAt);
      if (inserted.changes > 0) auditor.append('approval', { ...approval }, now);
    }
  });
}

/**
 * Records the signatures of an allowed request and what it spends (velocity history, counted per
 * rule and asset), with the output path and digest, before the output is written.
 */
export function recordSignatures(
  db: ColdsignDb,
  auditor: Auditor,
  signed: {
    requestId: string;
    rule: string;
    summary: SigningSummary;
    signatures: readonly SignatureRecord[];
    output?: SignedOutput;
  },
  now: Date,
): void {
  const totals = requestTotals(signed.summary);
  if (!totals)
    throw makeError('INTERNAL', 'The request has an amount that is not a whole number of base units.');
  db.transaction(() => {
    const at = now.toISOString();
    for (const { keyLabel, signature } of signed.signatures) {
      db.sqlite
        .prepare(
          'INSERT INTO signatures (request_id, key_label, signature, output_path, output_digest, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(
          signed.requestId,
          keyLabel,
          signature,
          signed.output?.path ?? null,
          signed.output?.digest ?? null,
          at,
        );
    }
    const spent = totals.size > 0 ? [...totals] : [['none', 0n] as const];
    for (const [asset, raw] of spent) {
      db.sqlite
        .prepare('INSERT INTO velocity (request_id, rule, asset, raw, time_ms) VALUES (?, ?, ?, ?, ?)')
        .run(signed.requestId, signed.rule, asset, raw.toString(), now.getTime());
    }
    auditor.append(
      'signature',
      {
        requestId: signed.requestId,
        rule: signed.rule,
        signatures: signed.signatures.map((s) => ({ keyLabel: s.keyLabel, signature: s.signature })),
        spent: Object.fromEntries([...totals].map(([asset, raw]) => [asset, raw.toString()])),
        output: signed.output ?? null,
      },
      now,
    );
  });
}

/** Velocity history of the signatures made since `sinceMs` (give the longest window of the policy). */
export function velocityHistory(db: ColdsignDb, sinceMs: number): VelocityHistory {
  return db.sqlite
    .prepare(
      'SELECT request_id AS requestId, rule, asset, raw, time_ms AS timeMs FROM velocity WHERE time_ms > ? ORDER BY time_ms',
    )
    .all(sinceMs) as VelocityRecord[];
}

/** `keys generate`: registers a key generated in the HSM, audited and checkpointed. */
export async function registerKey(
  db: ColdsignDb,
  auditor: Auditor,
  record: KeyRecord,
  now: Date,
): Promise<void> {
  await auditor.begin();
  db.transaction(() => {
    db.addKey(record);
    auditor.append('key.registered', { ...record }, now);
  });
  await auditor.checkpoint(now);
}

/** The velocity history `evaluate` needs under `policy`: signatures within its longest window. */
export function velocityHistoryFor(
  db: ColdsignDb,
  policy: PolicyDocument | null,
  now: Date,
): VelocityHistory {
  const windows = (policy?.rules ?? []).flatMap((rule) =>
    rule.velocity ? [windowMs(rule.velocity.window)] : [],
  );
  if (windows.length === 0) return [];
  return velocityHistory(db, now.getTime() - Math.max(...windows));
}
