/**
 * The appliance pipeline over the real store and HSM (ARCHITECTURE.md "The flow"):
 * intake → detect → parse → summarize → policy → approvals → audit request and decision →
 * anti-rollback and state check → "signing.started" checkpointed and pinned → sign in the HSM →
 * verify → audit signatures and checkpoint → export. Every change of state is one unit of work
 * (Auditor.commit). A batch is reviewed and decided whole, then signed whole — or nothing is signed.
 * Output files are written by the caller only after this returns, i.e. after the log holds them.
 */
import { refusalReason, verdictReasons } from './review-model.js';
import { toHex } from '../core/bytes.js';
import { isColdsignError, makeError, type ErrorCode } from '../core/errors.js';
import {
  readRequest,
  type InputFile,
  type QrImageReader,
  type RequestPayload,
} from '../core/pipeline/intake.js';
import {
  exportSigned,
  type ExportedOutput,
  type OutputFormat,
  type PsbtUrType,
} from '../core/pipeline/export.js';
import { prepareRequest, type PreparedRequest, type PrepareOptions } from '../core/pipeline/prepare.js';
import { signPrepared } from '../core/pipeline/sign.js';
import type { DigestSigner } from '../core/signer.js';
import { fastVerifier } from '../hsm/native-verifier.js';
import type { Decision } from '../core/summary.js';
import { parseApproval, verifyApprovals, type ApprovalBinding } from '../policy/approvals.js';
import { requestTotals } from '../policy/amounts.js';
import { btcPrepareOptions } from '../policy/btc-checks.js';
import { evaluate } from '../policy/evaluate.js';
import type { PolicyDocument } from '../policy/schema.js';
import { windowMs, type VelocityRecord } from '../policy/velocity.js';
import { auditPublicKeyOf, type AuditHead, type Auditor, type AuditTx } from '../store/audit.js';
import type { ColdsignDb } from '../store/database.js';
import { listOfficers } from '../store/officers.js';
import { loadPolicy } from '../store/policies.js';
import {
  recordApprovals,
  recordDecision,
  recordRequest,
  recordSignatures,
  recordSigningFailed,
  recordSigningStarted,
  velocityHistory,
  velocityHistoryFor,
  velocityCount,
  type SigningAnnouncement,
} from '../store/records.js';
import { storedHeads } from '../store/state.js';
import { LedgerIndex } from '../store/outpoint-ledger.js';
import {
  outpointConflictMessage,
  type OutpointConflict,
  type SignedOutpoint,
} from '../policy/outpoint-conflicts.js';
import {
  outpointClaimsOf,
  outpointConflictOf,
  refusedForConflict,
  type LedgerHead,
} from './outpoint-check.js';
import type { RequestReport } from './api.js';
import { nativeSha256 } from './native-sha256.js';

export interface PipelineDeps {
  db: ColdsignDb;
  auditor: Auditor;
  signer: DigestSigner;
  qr: QrImageReader;
  now: () => Date;
}

export interface Reviewed {
  prepared: PreparedRequest;
  decision: Decision;
  policyVersion: number | null;
  report: RequestReport;
}

const verifiedPolicies = new WeakMap<ColdsignDb, { key: string; policy: PolicyDocument | null }>();

/**
 * The policy in force, verified by loadPolicy (officer signatures, the entry it came from) once per
 * version and digest in this process: a changed row is verified again.
 */
export function currentPolicy(db: ColdsignDb): PolicyDocument | null {
  const row = db.sqlite
    .prepare('SELECT version, digest, link FROM policies ORDER BY version DESC, seq DESC LIMIT 1')
    .get() as { version: number; digest: string; link: string } | undefined;
  const key = row ? `${row.version}:${row.digest}:${row.link}` : 'none';
  const cached = verifiedPolicies.get(db);
  if (cached?.key === key) return cached.policy;
  const policy = loadPolicy(db);
  verifiedPolicies.set(db, { key, policy });
  return policy;
}

function tokensOf(policy: PolicyDocument | null) {
  return (policy?.rules ?? []).flatMap((rule) =>
    (rule.tokens ?? []).map((t) => ({ contract: t.contract, symbol: t.symbol, decimals: t.decimals })),
  );
}

/** What identifies the transaction across re-signs: Bitcoin txid, EVM transaction digest, else the request id. */
export function txidOf(prepared: PreparedRequest): string {
  if (prepared.chain === 'btc' && prepared.kind === 'message') return prepared.requestId;
  if (prepared.chain === 'btc') return prepared.plan.txid;
  return prepared.parsed.kind === 'transaction' ? prepared.plan.digest : prepared.requestId;
}

/**
 * What a re-sign is counted once under in velocity: the transaction, but only when its signatures are bound to
 * it with proven amounts (SIGHASH_ALL commits to every output, BIP-143; amounts proven by previous
 * transactions). Otherwise the request itself: NONE/SINGLE signatures outlive the transaction they were asked
 * for, and requests with unproven amounts may each sign part of one transaction under different claims.
 */
export function resignKeyOf(prepared: PreparedRequest): string {
  if (prepared.chain === 'btc' && prepared.kind !== 'message') {
    const facts = prepared.summary.btc;
    if (!facts || facts.feeStatus !== 'verified' || BigInt(facts.atRiskSats) > 0n) return prepared.requestId;
  }
  return txidOf(prepared);
}

/**
 * What an approval of this request binds: request id, signing keys (labels, and their public keys from this
 * appliance's registry), policy version, and this appliance (its audit public key).
 */
export function approvalBinding(
  db: ColdsignDb,
  prepared: PreparedRequest,
  policyVersion: number | null,
): ApprovalBinding {
  const labels = new Set(prepared.summary.signingKeys);
  return {
    requestId: prepared.requestId,
    keys: prepared.summary.signingKeys,
    policyVersion: policyVersion ?? 0,
    scope: {
      appliance: auditPublicKeyOf(db) ?? '',
      keyPublicKeys: db
        .listKeys()
        .filter((key) => labels.has(key.label))
        .map((key) => key.publicKey),
    },
  };
}

/** What the batch decided so far and is about to sign: counted in velocity, and in the outpoint ledger. */
interface PendingBatch {
  velocity: VelocityRecord[];
  outpoints: SignedOutpoint[];
}

/**
 * Evaluates the policy over the verified velocity history; a re-sign of a transaction already in the
 * history is counted once (its earlier records are left out, the request itself is counted). A PSBT that
 * claims another amount or scriptPubKey for an outpoint already signed is refused (the outpoint ledger).
 */
function decide(
  auditor: Auditor | undefined,
  db: ColdsignDb,
  prepared: PreparedRequest,
  now: Date,
  pending: PendingBatch = { velocity: [], outpoints: [] },
): { decision: Decision; policy: PolicyDocument | null; conflict?: OutpointConflict } {
  const policy = currentPolicy(db);
  const full = auditor ? velocityHistoryFor(auditor, policy, now) : previewHistory(db, policy, now);
  const txid = resignKeyOf(prepared);
  const history = [...full, ...pending.velocity].filter((r) => (r.txid ?? r.requestId) !== txid);
  const decision = evaluate(prepared.summary, policy, history, now);
  // BIP-143 signs the claimed amount, BIP-174 lets witness_utxo claim it unproven: one outpoint, one claim.
  const conflict = outpointConflictOf(db, ledgerHead(auditor, db), prepared, pending.outpoints);
  if (!conflict) return { decision, policy };
  return { decision: refusedForConflict(decision, conflict), policy, conflict };
}

/** The outpoint ledger's index the auditor verified; without the HSM (an officer's preview), the stored one. */
function ledgerHead(auditor: Auditor | undefined, db: ColdsignDb): LedgerHead {
  if (auditor) return { index: auditor.ledgerIndex, seq: auditor.head.seq };
  return { index: LedgerIndex.stored(db.sqlite), seq: Number.MAX_SAFE_INTEGER };
}

/** Without the HSM (an officer's preview), the velocity rows are read against their stored head. */
function previewHistory(db: ColdsignDb, policy: PolicyDocument | null, now: Date): VelocityRecord[] {
  const windows = (policy?.rules ?? []).flatMap((r) => (r.velocity ? [windowMs(r.velocity.window)] : []));
  if (windows.length === 0) return [];
  return [...velocityHistory(db, storedHeads(db.sqlite).velocity, now.getTime() - Math.max(...windows))];
}

export function buildReport(
  prepared: PreparedRequest,
  decision: Decision,
  status: RequestReport['status'],
  approvals: string[],
  outputs: string[],
  seq: number,
  head: AuditHead,
): RequestReport {
  return {
    requestId: prepared.requestId,
    chain: prepared.chain,
    kind: prepared.kind,
    summary: prepared.summary.details,
    policy: {
      allowed: decision.allowed,
      rule: decision.rule,
      ...(decision.closestRule !== undefined ? { closestRule: decision.closestRule } : {}),
      requiredApprovals: decision.requiredApprovals,
      approvals,
      reasons: decision.reasons,
    },
    status,
    outputs,
    audit: { seq, head },
  };
}

/** Reads, parses, summarizes and evaluates one request without recording anything (officers' approve). */
export async function previewInputs(
  deps: Pick<PipelineDeps, 'db' | 'qr' | 'now'>,
  inputs: InputFile[],
): Promise<{ prepared: PreparedRequest; decision: Decision; policy: PolicyDocument | null }> {
  const payload = await readRequest(inputs, deps.qr);
  const policy = currentPolicy(deps.db);
  const prepared = await prepareRequest(payload, deps.db.listKeys(), {
    tokens: tokensOf(policy),
    btc: btcPrepareOptions(policy),
    routeEthSignRequest: await ethSignRouterFor(deps.db, payload),
    sha256: nativeSha256,
  });
  return { prepared, ...decide(undefined, deps.db, prepared, deps.now()) };
}

/**
 * The ERC-4527 router of an eth-sign-request; the pairing code (and the EVM address code under it) loads only for
 * such a request, never for a Bitcoin one.
 */
async function ethSignRouterFor(
  db: ColdsignDb,
  payload: RequestPayload,
): Promise<PrepareOptions['routeEthSignRequest']> {
  if (!('ethSignRequest' in payload)) return undefined;
  return (await import('./evm-pairing.js')).ethSignRouter(db);
}

/** Reads, parses, summarizes and evaluates one request; records the request and decision in the log. */
export async function reviewInputs(
  deps: PipelineDeps,
  inputs: InputFile[],
  onProgress?: (done: number, total: number) => void,
  options: { checkpoint?: boolean } = {},
): Promise<Reviewed> {
  return reviewPayload(deps, await readRequest(inputs, deps.qr, onProgress), options);
}

async function reviewPayload(
  deps: PipelineDeps,
  payload: RequestPayload,
  options: { checkpoint?: boolean },
): Promise<Reviewed> {
  const now = deps.now();
  // Officers, keys and the policy must still be the projection the auditor verified.
  deps.auditor.verifyState();
  const policy = currentPolicy(deps.db);
  const prepared = await prepareRequest(payload, deps.db.listKeys(), {
    tokens: tokensOf(policy),
    btc: btcPrepareOptions(policy),
    routeEthSignRequest: await ethSignRouterFor(deps.db, payload),
    sha256: nativeSha256,
  }).catch((error: unknown) => refuseWhileReading(deps, error, now));
  const { decision } = decide(deps.auditor, deps.db, prepared, now);
  // `sign` signs right after the review; its "signing.started" checkpoint covers these entries.
  const seq = await deps.auditor.commit(
    now,
    (tx) => {
      recordRequest(
        tx,
        {
          requestId: prepared.requestId,
          chain: prepared.chain,
          kind: prepared.kind,
          summary: prepared.summary.details,
          canonical: prepared.parsed.canonical,
        },
        now,
      );
      return recordDecision(tx, prepared.requestId, decision, policy?.version ?? null, now).seq;
    },
    { checkpoint: options.checkpoint !== false },
  );
  return {
    prepared,
    decision,
    policyVersion: policy?.version ?? null,
    report: buildReport(prepared, decision, 'inspected', [], [], seq, deps.auditor.head),
  };
}

/**
 * A request the policy refuses while it is read (PSBT_SIGHASH_REFUSED, PSBT_WALLET_UNREGISTERED: a
 * policy decision, exit 4) is recorded like every other refusal, as "request.refused" with its code and
 * reason, in a closed unit of work; then the refusal is thrown. Malformed input (exit 3) is not a
 * decision and is not logged.
 */
async function refuseWhileReading(deps: PipelineDeps, error: unknown, now: Date): Promise<never> {
  if (isColdsignError(error) && error.family === 'policy') {
    const requestId = typeof error.info.requestId === 'string' ? error.info.requestId : null;
    await deps.auditor.commit(now, (tx) =>
      tx.append('request.refused', { requestId, code: error.code, reason: error.message, approvals: [] }),
    );
  }
  throw error;
}

export interface SignOptions {
  format: OutputFormat;
  /** Where the caller will write the output, given the output's file suffix (recorded in the log), or null. */
  outputPath: ((suffix: string) => string) | null;
  fragmentBytes?: number;
  /** UR type of a signed PSBT (default: the type the request came in, else crypto-psbt). */
  urType?: PsbtUrType;
  /** Also compute the UR parts of the output for QR frames. */
  withQr?: boolean;
  /** Progress of the HSM signatures (done, total). */
  onProgress?: (done: number, total: number) => void;
  /** Bitcoin: finalize complete single-key PSBTs (`sign --finalize`); `--format json` implies it (it carries txHex). */
  finalize?: boolean;
}

export interface SignOutcome {
  report: RequestReport;
  output: ExportedOutput;
  /** SHA-256 of the output bytes, as recorded in the log. */
  outputDigest: string;
}

/**
 * What "signing.started" announces for one allowed request: what will be signed, and what velocity and the
 * outpoint ledger count (under `rule`) from that pinned entry on, whether or not the signing finishes.
 */
function announce(prepared: PreparedRequest, rule: string): SigningAnnouncement {
  const totals = requestTotals(prepared.summary);
  if (!totals)
    throw makeError('INTERNAL', 'The request has an amount that is not a whole number of base units.');
  const outpoints = outpointClaimsOf(prepared);
  return {
    ...announcedSignatures(prepared),
    velocity: velocityCount(rule, resignKeyOf(prepared), totals),
    ...(outpoints.length > 0 ? { outpoints } : {}),
  };
}

/** What will be signed: the digests or inputs, each with its key (the signer refuses anything else). */
function announcedSignatures(prepared: PreparedRequest): Omit<SigningAnnouncement, 'velocity' | 'outpoints'> {
  if (prepared.chain === 'btc' && prepared.kind === 'message') {
    // A Bitcoin message: one signature, its digest named (the signer refuses any other digest).
    return {
      requestId: prepared.requestId,
      txid: prepared.requestId,
      signatures: [{ key: prepared.plan.keyLabel, digest: prepared.plan.digest }],
    };
  }
  if (prepared.chain === 'btc') {
    return {
      requestId: prepared.requestId,
      txid: prepared.plan.txid,
      signatures: prepared.plan.requests.map((r) => ({
        key: r.label,
        input: r.input,
        sighashType: r.sighashType,
      })),
    };
  }
  return {
    requestId: prepared.requestId,
    txid: txidOf(prepared),
    signatures: [{ key: prepared.plan.keyLabel, digest: prepared.plan.digest }],
  };
}

/**
 * The HSM signer, limited to what was announced in "signing.started" (the number of signatures, and
 * for EVM the digest), and counting signatures for a progress display.
 */
function announcedSigner(
  signer: DigestSigner,
  announcement: SigningAnnouncement,
  onProgress?: (done: number, total: number) => void,
): DigestSigner {
  const total = announcement.signatures.length;
  // Only EVM announcements name digests (Bitcoin's name inputs): only those are compared, by a set.
  const digests = new Set(
    announcement.signatures.flatMap((s) => (s.digest ? [s.digest.replace(/^0x/, '')] : [])),
  );
  let started = 0;
  let done = 0;
  const announced = async <T>(digest: Uint8Array, sign: () => Promise<T>): Promise<T> => {
    started += 1;
    if (started > total || (digests.size > 0 && !digests.has(toHex(digest)))) {
      throw makeError('INTERNAL', 'A signature that was not announced in the audit log was refused.');
    }
    const signature = await sign();
    onProgress?.(++done, total);
    return signature;
  };
  const signRaw = signer.signRaw?.bind(signer);
  return {
    signDigest: (keyId, publicKey, digest) =>
      announced(digest, () => signer.signDigest(keyId, publicKey, digest)),
    ...(signRaw ? { signRaw: (keyId, digest) => announced(digest, () => signRaw(keyId, digest)) } : {}),
  };
}

interface Refusal {
  reviewed: Reviewed;
  code: ErrorCode;
  message: string;
  decision: Decision;
  approvals: string[];
}

/** Refusals recorded in the log (the whole batch is refused), then the first is thrown (nothing signed). */
async function refuseBatch(
  deps: PipelineDeps,
  batch: readonly Reviewed[],
  refusals: Refusal[],
): Promise<never> {
  const now = deps.now();
  const refusedIds = new Set(refusals.map((r) => r.reviewed.prepared.requestId));
  const seq = await deps.auditor.commit(now, (tx) => {
    let last = 0;
    for (const r of refusals) {
      recordDecision(
        tx,
        r.reviewed.prepared.requestId,
        { ...r.decision, allowed: false },
        r.reviewed.policyVersion,
        now,
      );
      last ||= tx.append('request.refused', {
        requestId: r.reviewed.prepared.requestId,
        code: r.code,
        reason: r.message,
        approvals: r.approvals,
      }).seq;
    }
    for (const reviewed of batch) {
      if (refusedIds.has(reviewed.prepared.requestId)) continue;
      tx.append('request.refused', {
        requestId: reviewed.prepared.requestId,
        code: 'BATCH_REFUSED',
        reason: 'Another request of the same batch was refused; nothing in the batch is signed.',
        approvals: [],
      });
    }
    return last;
  });
  const first = refusals[0]!;
  const report = buildReport(
    first.reviewed.prepared,
    first.decision,
    'refused',
    first.approvals,
    [],
    seq,
    deps.auditor.head,
  );
  const family = first.code;
  throw Object.assign(
    makeError(family, first.message, {
      requestId: first.reviewed.prepared.requestId,
      refused: refusals.map((r) => r.reviewed.prepared.requestId),
    }),
    { report },
  );
}

function denialMessage(decision: Decision, policy: PolicyDocument | null, prepared: PreparedRequest): string {
  // The same reason the review shows first (appliance/review-model.ts decides which).
  const first = refusalReason(verdictReasons(decision, policy, prepared.summary.chain));
  const message = first
    ? `The policy refuses this request: ${first.message.replace(/^./, (c) => c.toLowerCase())}`
    : 'The policy refuses this request.';
  return message.replace(/\.?$/, '.');
}

/** Approval documents naming this request (a batch carries the approvals of all its requests). */
function approvalsFor(docs: readonly unknown[], requestId: string): unknown[] {
  return docs.filter((doc) => {
    try {
      return parseApproval(doc).requestId === requestId;
    } catch {
      return true; // malformed: verifyApprovals names it
    }
  });
}

/**
 * Signs a batch of reviewed requests, all or none: each is decided again now (the batch's earlier
 * requests counted in velocity) with its own approvals (by request id); any refusal refuses the
 * batch with nothing signed. Then "signing.started" (request ids and what will be signed) is
 * checkpointed and pinned before the HSM signs, and the signatures, output digests and velocity
 * are recorded before the outputs are returned to be written.
 */
export async function signBatch(
  deps: PipelineDeps,
  batch: readonly Reviewed[],
  approvalDocs: readonly unknown[],
  options: SignOptions | ((reviewed: Reviewed) => SignOptions),
): Promise<SignOutcome[]> {
  const optionsFor = typeof options === 'function' ? options : () => options;
  const now = deps.now();
  deps.auditor.verifyState();
  const officers = listOfficers(deps.db);
  const refusals: Refusal[] = [];
  const pending: PendingBatch = { velocity: [], outpoints: [] };
  const allowed: Array<{ reviewed: Reviewed; decision: Decision; approvals: string[] }> = [];
  for (const reviewed of batch) {
    const { prepared } = reviewed;
    const { decision, policy, conflict } = decide(deps.auditor, deps.db, prepared, now, pending);
    // The outpoint ledger (BIP-143 amount commitment, BIP-174 witness_utxo claims): its own stable code.
    if (conflict) {
      refusals.push({
        reviewed,
        code: 'PSBT_OUTPOINT_AMOUNT_CONFLICT',
        message: outpointConflictMessage(conflict),
        decision,
        approvals: [],
      });
      continue;
    }
    if (!decision.allowed) {
      refusals.push({
        reviewed,
        code: 'POLICY_DENIED',
        message: denialMessage(decision, policy, prepared),
        decision,
        approvals: [],
      });
      continue;
    }
    let approvals: string[];
    try {
      const binding = approvalBinding(deps.db, prepared, policy?.version ?? null);
      approvals = verifyApprovals(
        approvalsFor(approvalDocs, prepared.requestId),
        binding,
        officers,
        now,
        policy,
      );
    } catch (error) {
      if (!isColdsignError(error)) throw error;
      refusals.push({ reviewed, code: error.code, message: error.message, decision, approvals: [] });
      continue;
    }
    if (approvals.length < decision.requiredApprovals) {
      refusals.push({
        reviewed,
        code: 'APPROVALS_MISSING',
        message: `Rule ${decision.rule} needs ${decision.requiredApprovals} officer approval(s); ${approvals.length} valid approval(s) were given.`,
        decision,
        approvals,
      });
      continue;
    }
    const totals = requestTotals(prepared.summary) ?? new Map<string, bigint>();
    // A request that moves nothing (a message) still counts for velocity.maxCount: the store records it as
    // asset "none" (store/state.ts), and so does the batch's pending history.
    if (totals.size === 0) totals.set('none', 0n);
    for (const [asset, raw] of totals) {
      pending.velocity.push({
        requestId: prepared.requestId,
        rule: decision.rule ?? '',
        asset,
        raw: raw.toString(),
        timeMs: now.getTime(),
        txid: resignKeyOf(prepared),
      });
    }
    for (const claim of outpointClaimsOf(prepared))
      pending.outpoints.push({ ...claim, requestId: prepared.requestId });
    allowed.push({ reviewed, decision, approvals });
  }
  if (refusals.length > 0) await refuseBatch(deps, batch, refusals);

  // Anti-rollback and state: the database must match the checkpoint pinned in the HSM before any signature.
  await deps.auditor.assertHeadMatchesToken();
  const announcements = allowed.map((a) => announce(a.reviewed.prepared, a.decision.rule ?? ''));
  // The pin names what is about to be signed: no signature can exist that a verified log does not mention.
  // The checkpoint keeps the pin open: the signatures (or signing.failed) that follow close this unit of work.
  const started = await deps.auditor.commit(
    now,
    (tx) => {
      for (const a of allowed) {
        const docs = approvalsFor(approvalDocs, a.reviewed.prepared.requestId);
        recordApprovals(tx, a.reviewed.prepared.requestId, docs.map(parseApproval));
      }
      return recordSigningStarted(tx, announcements).seq;
    },
    { checkpoint: 'open' },
  );

  const made: Array<{
    a: (typeof allowed)[number];
    output: ExportedOutput;
    digest: string;
    path: string | null;
    signatures: Array<{ keyLabel: string; signature: string }>;
  }> = [];
  try {
    for (const [i, a] of allowed.entries()) {
      const { prepared } = a.reviewed;
      const opts = optionsFor(a.reviewed);
      const signed = await signPrepared(
        prepared,
        announcedSigner(deps.signer, announcements[i]!, opts.onProgress),
        fastVerifier,
        { finalize: opts.finalize === true || opts.format === 'json' },
      );
      const output = await exportSigned(prepared, signed, opts.format, {
        fragmentBytes: opts.fragmentBytes,
        withQr: opts.withQr,
        urType: opts.urType,
      });
      made.push({
        a,
        output,
        digest: toHex(nativeSha256(output.bytes)),
        path: opts.outputPath ? opts.outputPath(output.suffix) : null,
        signatures: signed.signatures.map((s) => ({ keyLabel: s.key, signature: s.signature })),
      });
    }
  } catch (error) {
    const code = isColdsignError(error) ? error.code : 'INTERNAL';
    await deps.auditor.commit(deps.now(), (tx) =>
      recordSigningFailed(
        tx,
        allowed.map((a) => a.reviewed.prepared.requestId),
        code,
      ),
    );
    throw error;
  }

  const seqs = await deps.auditor.commit(now, (tx: AuditTx) =>
    made.map(
      (m) =>
        recordSignatures(
          tx,
          {
            requestId: m.a.reviewed.prepared.requestId,
            txid: resignKeyOf(m.a.reviewed.prepared),
            rule: m.a.decision.rule ?? '',
            summary: m.a.reviewed.prepared.summary,
            signatures: m.signatures,
            countedAt: started,
            ...(m.path ? { output: { path: m.path, digest: m.digest } } : {}),
          },
          now,
        ).seq,
    ),
  );
  const head = deps.auditor.head;
  return made.map((m, i) => ({
    report: buildReport(
      m.a.reviewed.prepared,
      m.a.decision,
      'signed',
      m.a.approvals,
      m.path ? [m.path] : [],
      seqs[i]!,
      head,
    ),
    output: m.output,
    outputDigest: m.digest,
  }));
}
