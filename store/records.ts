/**
 * The records of a signing operation, each appended inside a unit of work (Auditor.commit) together
 * with its audit entry: request, decision, approvals, the announcement of a signing, signatures.
 * Approvals, velocity history and the outpoint ledger are projections of the "approval" and "signing.started"
 * entries (store/state.ts; "signature" entries written before announcements carried the counts); requests, decisions and signatures are plain records for display and export.
 */
import { makeError } from '../core/errors.js';
import { canonicalJson } from '../policy/canonical.js';
import type { Chain, KeyRecord } from '../core/signer.js';
import type { Decision, RequestKind, SigningSummary } from '../core/summary.js';
import type { Approval } from '../policy/approvals.js';
import type { OutpointClaim } from '../policy/outpoint-conflicts.js';
import { requestTotals } from '../policy/amounts.js';
import type { PolicyDocument } from '../policy/schema.js';
import { windowMs, type VelocityHistory, type VelocityRecord } from '../policy/velocity.js';
import type { AuditEntry, Auditor, AuditTx } from './audit.js';
import type { ColdsignDb } from './database.js';
import { assertKeyIsNew } from './keys.js';
import { outpointPayload } from './outpoint-ledger.js';
import { readSuffix } from './state.js';

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
export function recordRequest(tx: AuditTx, request: RequestRecord, now: Date): void {
  if (!/^[0-9a-f]{64}$/.test(request.requestId))
    throw makeError('INTERNAL', 'A request id is 64 lower-case hex characters.');
  const head = { requestId: request.requestId, chain: request.chain, kind: request.kind };
  const entry = tx.append('request', { ...head, summary: request.summary });
  tx.db
    .statement(
      'INSERT OR IGNORE INTO requests (request_id, chain, kind, summary, canonical, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    )
    .run(
      request.requestId,
      request.chain,
      request.kind,
      summaryText(entry.payload, head) ?? JSON.stringify(request.summary),
      request.canonical ?? null,
      now.toISOString(),
    );
}

/**
 * The summary's JSON as the entry's RFC 8785 payload already holds it: "summary" sorts after the other three
 * names (JCS §3.2.3), so it is the payload's last member and is serialized once for both the log and the table.
 */
function summaryText(payload: string, head: Record<string, string>): string | undefined {
  const prefix = `${canonicalJson(head).slice(0, -1)},"summary":`;
  return payload.startsWith(prefix) && payload.endsWith('}') ? payload.slice(prefix.length, -1) : undefined;
}

export function recordDecision(
  tx: AuditTx,
  requestId: string,
  decision: Decision,
  policyVersion: number | null,
  now: Date,
): AuditEntry {
  tx.db
    .statement(
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
  return tx.append('decision', { requestId, policyVersion, ...decision });
}

/** Appends verified approvals (policy/approvals verifyApprovals first); an approval already recorded is kept once. */
export function recordApprovals(tx: AuditTx, requestId: string, approvals: readonly Approval[]): void {
  const seen = new Set<string>();
  for (const approval of approvals) {
    if (approval.requestId !== requestId)
      throw makeError('APPROVAL_INVALID', `The approval by "${approval.officer}" is for another request.`);
    const known = tx.db
      .statement('SELECT 1 FROM approvals WHERE request_id = ? AND officer = ? AND signature = ?')
      .get(requestId, approval.officer, approval.signature);
    if (known || seen.has(approval.signature)) continue;
    seen.add(approval.signature);
    tx.append('approval', { ...approval });
  }
}

/**
 * What velocity counts for one signing: the rule, the identity a re-sign is counted once under
 * (appliance/pipeline.ts resignKeyOf) and what leaves per asset (base units, decimal; "none" for nothing).
 */
export interface VelocityCount {
  rule: string;
  txid: string;
  spent: Record<string, string>;
}

/** What is about to be signed for one request: announced (and checkpointed) before the HSM is asked. */
export interface SigningAnnouncement {
  requestId: string;
  /** Bitcoin: the unsigned txid and each input's key and sighash type; EVM: the digest. */
  txid: string;
  signatures: Array<{ key: string; input?: number; sighashType?: number; digest?: string }>;
  /**
   * Counted by velocity and the outpoint ledger from this pinned announcement, before any signature exists: a
   * signing that never finishes (killed after the HSM signed, its tail discarded) still counts. The pipeline
   * always sets it; announcements written before it existed have none (their "signature" entries are counted).
   */
  velocity?: VelocityCount;
  /** Bitcoin PSBT: the outpoints about to be signed, with the amount and scriptPubKey each signature commits to. */
  outpoints?: OutpointClaim[];
}

/** The velocity count of a request's totals (what `requestTotals` gives) under `rule`, re-signs keyed by `txid`. */
export function velocityCount(
  rule: string,
  txid: string,
  totals: ReadonlyMap<string, bigint>,
): VelocityCount {
  const spent = Object.fromEntries([...totals].map(([asset, raw]) => [asset, raw.toString()]));
  return { rule, txid, spent: totals.size > 0 ? spent : { none: '0' } };
}

/** "signing.started": the request ids and digests about to be signed (audit verify reports it unfinished until closed). */
export function recordSigningStarted(tx: AuditTx, announcements: readonly SigningAnnouncement[]): AuditEntry {
  return tx.append('signing.started', {
    requestIds: announcements.map((a) => a.requestId),
    requests: announcements.map((a) =>
      a.outpoints && a.outpoints.length > 0 ? { ...a, outpoints: outpointPayload(a.outpoints) } : a,
    ),
  });
}

/** "signing.failed": the HSM signed nothing usable for these requests (closes a signing.started). */
export function recordSigningFailed(tx: AuditTx, requestIds: readonly string[], code: string): void {
  tx.append('signing.failed', { requestIds, code });
}

/**
 * Records the signatures of an allowed request and what it spends, with the output path and digest, before the
 * output is written. With `countedAt` (the seq of the "signing.started" that announced them), velocity and the
 * outpoint ledger were counted there and the entry only names it; without, the entry itself is counted (velocity
 * per rule and asset, once per transaction id; for a PSBT, the outpoints and amounts claimed), as entries
 * written before announcements carried the counts were.
 */
export function recordSignatures(
  tx: AuditTx,
  signed: {
    requestId: string;
    /**
     * What velocity counts a re-sign once under (appliance/pipeline.ts resignKeyOf): the Bitcoin txid or EVM
     * transaction digest, else the request id (messages; Bitcoin signatures not bound to proven amounts).
     */
    txid?: string;
    rule: string;
    summary: SigningSummary;
    signatures: readonly SignatureRecord[];
    output?: SignedOutput;
    /** Bitcoin: the outpoints signed with the amount and scriptPubKey each signature commits to (the outpoint ledger). */
    outpoints?: readonly OutpointClaim[];
    /** The "signing.started" entry whose announcement velocity and the ledger counted. */
    countedAt?: number;
  },
  now: Date,
): AuditEntry {
  const totals = requestTotals(signed.summary);
  if (!totals)
    throw makeError('INTERNAL', 'The request has an amount that is not a whole number of base units.');
  const at = now.toISOString();
  for (const { keyLabel, signature } of signed.signatures) {
    tx.db
      .statement(
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
  return tx.append('signature', {
    requestId: signed.requestId,
    txid: signed.txid ?? signed.requestId,
    rule: signed.rule,
    signatures: signed.signatures.map((s) => ({ keyLabel: s.keyLabel, signature: s.signature })),
    spent: Object.fromEntries([...totals].map(([asset, raw]) => [asset, raw.toString()])),
    output: signed.output ?? null,
    ...(signed.countedAt !== undefined
      ? { countedAt: signed.countedAt }
      : signed.outpoints && signed.outpoints.length > 0
        ? { outpoints: outpointPayload(signed.outpoints) }
        : {}),
  });
}

/**
 * Velocity history of the signatures made since `sinceMs`, read from the newest row back and each
 * row verified against the velocity head the auditor verified (AUDIT_TAMPERED on any edit).
 */
export function velocityHistory(db: ColdsignDb, head: string, sinceMs: number): VelocityHistory {
  return readSuffix(db.sqlite, 'velocity', head, (row) => Number(row.values.time_ms) <= sinceMs).map(
    (row): VelocityRecord => ({
      requestId: String(row.values.request_id),
      rule: String(row.values.rule),
      asset: String(row.values.asset),
      raw: String(row.values.raw),
      timeMs: Number(row.values.time_ms),
      txid: String(row.values.txid ?? row.values.request_id),
    }),
  );
}

/** `keys generate`: registers a key generated in the HSM, in its own unit of work. */
export async function registerKey(auditor: Auditor, record: KeyRecord, now: Date): Promise<void> {
  assertKeyIsNew(auditor.db.sqlite, record);
  await auditor.commit(now, (tx) => tx.append('key.registered', { ...record }));
}

/** The velocity history `evaluate` needs under `policy`: signatures within its longest window. */
export function velocityHistoryFor(
  auditor: Auditor,
  policy: PolicyDocument | null,
  now: Date,
): VelocityHistory {
  const windows = (policy?.rules ?? []).flatMap((rule) =>
    rule.velocity ? [windowMs(rule.velocity.window)] : [],
  );
  if (windows.length === 0) return [];
  return velocityHistory(auditor.db, auditor.stateHeads.velocity, now.getTime() - Math.max(...windows));
}
