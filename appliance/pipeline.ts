/**
 * The appliance pipeline over the real store and HSM (ARCHITECTURE.md "The flow"):
 * intake → detect → parse → summarize → policy → approvals → audit request and decision →
 * anti-rollback check → sign in the HSM → verify → audit signatures and checkpoint → export.
 * Output files are written by the caller only after this returns, i.e. after the log holds them.
 */
import { sha256Hex } from '../core/bytes.js';
import { makeError } from '../core/errors.js';
import { readRequest, type InputFile, type QrImageReader } from '../core/pipeline/intake.js';
import {
  exportSigned,
  type ExportedOutput,
  type OutputFormat,
  type PsbtUrType,
} from '../core/pipeline/export.js';
import { prepareRequest, type PreparedRequest } from '../core/pipeline/prepare.js';
import { signPrepared } from '../core/pipeline/sign.js';
import type { DigestSigner } from '../core/signer.js';
import { fastVerifier } from '../hsm/native-verifier.js';
import type { Decision } from '../core/summary.js';
import { parseApproval, verifyApprovals } from '../policy/approvals.js';
import { evaluate } from '../policy/evaluate.js';
import type { PolicyDocument } from '../policy/schema.js';
import { auditHead, type Auditor } from '../store/audit.js';
import type { ColdsignDb } from '../store/database.js';
import { listOfficers } from '../store/officers.js';
import { loadPolicy } from '../store/policies.js';
import {
  recordApprovals,
  recordDecision,
  recordRequest,
  recordSignatures,
  velocityHistoryFor,
} from '../store/records.js';
import type { RequestReport } from './api.js';
import { ethSignRouter } from './evm-pairing.js';

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
 * The policy in force, verified by loadPolicy (officer signatures, audited digest) once per version and
 * digest in this process: a changed row is verified again.
 */
export function currentPolicy(db: ColdsignDb): PolicyDocument | null {
  const row = db.sqlite
    .prepare('SELECT version, digest FROM policies ORDER BY version DESC LIMIT 1')
    .get() as { version: number; digest: string } | undefined;
  const key = row ? `${row.version}:${row.digest}` : 'none';
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

/** The reasons worth showing: those of the rules for this request's chain, and the default verdict. */
export function relevantReasons(
  decision: Decision,
  policy: PolicyDocument | null,
  chain: 'btc' | 'evm',
): Decision['reasons'] {
  const otherChain = new Set((policy?.rules ?? []).filter((r) => r.chain !== chain).map((r) => r.id));
  return decision.reasons.filter((r) => !otherChain.has(r.rule));
}

function decide(
  db: ColdsignDb,
  prepared: PreparedRequest,
  now: Date,
): { decision: Decision; policy: PolicyDocument | null } {
  const policy = currentPolicy(db);
  return { decision: evaluate(prepared.summary, policy, velocityHistoryFor(db, policy, now), now), policy };
}

export function buildReport(
  prepared: PreparedRequest,
  decision: Decision,
  status: RequestReport['status'],
  approvals: string[],
  outputs: string[],
  seq: number,
): RequestReport {
  return {
    requestId: prepared.requestId,
    chain: prepared.chain,
    kind: prepared.kind,
    summary: prepared.summary.details,
    policy: {
      allowed: decision.allowed,
      rule: decision.rule,
      requiredApprovals: decision.requiredApprovals,
      approvals,
      reasons: decision.reasons,
    },
    status,
    outputs,
    audit: { seq },
  };
}

/** Reads, parses, summarizes and evaluates one request without recording anything (officers' approve). */
export async function previewInputs(
  deps: Pick<PipelineDeps, 'db' | 'qr' | 'now'>,
  inputs: InputFile[],
): Promise<{ prepared: PreparedRequest; decision: Decision }> {
  const payload = await readRequest(inputs, deps.qr);
  const policy = currentPolicy(deps.db);
  const prepared = await prepareRequest(payload, deps.db.listKeys(), {
    tokens: tokensOf(policy),
    routeEthSignRequest: ethSignRouter(deps.db),
  });
  return { prepared, decision: decide(deps.db, prepared, deps.now()).decision };
}

/** Reads, parses, summarizes and evaluates one request; records the request and decision in the log. */
export async function reviewInputs(
  deps: PipelineDeps,
  inputs: InputFile[],
  onProgress?: (done: number, total: number) => void,
  options: { checkpoint?: boolean } = {},
): Promise<Reviewed> {
  const payload = await readRequest(inputs, deps.qr, onProgress);
  const now = deps.now();
  const policy = currentPolicy(deps.db);
  const prepared = await prepareRequest(payload, deps.db.listKeys(), {
    tokens: tokensOf(policy),
    routeEthSignRequest: ethSignRouter(deps.db),
  });
  const { decision } = decide(deps.db, prepared, now);
  await deps.auditor.begin();
  const canonical = prepared.parsed.canonical;
  recordRequest(
    deps.db,
    deps.auditor,
    {
      requestId: prepared.requestId,
      chain: prepared.chain,
      kind: prepared.kind,
      summary: prepared.summary.details,
      canonical,
    },
    now,
  );
  recordDecision(deps.db, deps.auditor, prepared.requestId, decision, policy?.version ?? null, now);
  const entry = { seq: auditHead(deps.db).seq };
  // `sign` signs right after the review and checkpoints once at the end; a crash in between is recovered at start-up.
  if (options.checkpoint !== false) await deps.auditor.checkpoint(now);
  return {
    prepared,
    decision,
    policyVersion: policy?.version ?? null,
    report: buildReport(prepared, decision, 'inspected', [], [], entry.seq),
  };
}

/** A refusal recorded in the log, then thrown (exit 4, nothing signed). */
async function refuse(
  deps: PipelineDeps,
  reviewed: Reviewed,
  code: 'POLICY_DENIED' | 'APPROVALS_MISSING',
  message: string,
  decision: Decision,
  approvals: string[],
): Promise<never> {
  const now = deps.now();
  await deps.auditor.begin();
  recordDecision(
    deps.db,
    deps.auditor,
    reviewed.prepared.requestId,
    { ...decision, allowed: false },
    reviewed.policyVersion,
    now,
  );
  const entry = deps.auditor.append(
    'request.refused',
    { requestId: reviewed.prepared.requestId, code, reason: message, approvals },
    now,
  );
  await deps.auditor.checkpoint(now);
  const report = buildReport(reviewed.prepared, decision, 'refused', approvals, [], entry.seq);
  throw Object.assign(makeError(code, message, { requestId: reviewed.prepared.requestId }), { report });
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
}

/** The signer, counting signatures for a progress display. */
function withProgress(
  signer: DigestSigner,
  total: number,
  onProgress?: (done: number, total: number) => void,
): DigestSigner {
  if (!onProgress) return signer;
  let done = 0;
  return {
    signDigest: async (keyId, publicKey, digest) => {
      const signature = await signer.signDigest(keyId, publicKey, digest);
      onProgress(++done, total);
      return signature;
    },
  };
}

export interface SignOutcome {
  report: RequestReport;
  output: ExportedOutput;
  /** SHA-256 of the output bytes, as recorded in the log. */
  outputDigest: string;
}

/**
 * Signs a reviewed request: re-evaluates the policy now, checks approvals, refuses on rollback, signs in
 * the HSM (every signature verified by the chain code), and records signatures, output digest and
 * velocity in the log before returning the output to be written.
 */
export async function signReviewed(
  deps: PipelineDeps,
  reviewed: Reviewed,
  approvalDocs: unknown[],
  options: SignOptions,
): Promise<SignOutcome> {
  const now = deps.now();
  const { prepared } = reviewed;
  const { decision, policy } = decide(deps.db, prepared, now);
  if (!decision.allowed) {
    const why = relevantReasons(decision, policy, prepared.summary.chain).filter((r) => !r.ok);
    const first = why.find((r) => r.rule !== 'default') ?? why[0];
    const message = first
      ? `The policy refuses this request: ${first.message.replace(/^./, (c) => c.toLowerCase())}`
      : 'The policy refuses this request.';
    await refuse(deps, reviewed, 'POLICY_DENIED', message.replace(/\.?$/, '.'), decision, []);
  }
  const officers = listOfficers(deps.db);
  const approvals = verifyApprovals(approvalDocs, prepared.requestId, officers);
  if (approvals.length < decision.requiredApprovals) {
    await refuse(
      deps,
      reviewed,
      'APPROVALS_MISSING',
      `Rule ${decision.rule} needs ${decision.requiredApprovals} officer approval(s); ${approvals.length} valid approval(s) were given.`,
      decision,
      approvals,
    );
  }
  // Anti-rollback: the database head must match the checkpoint pinned in the HSM before every signature.
  await deps.auditor.assertHeadMatchesToken();
  await deps.auditor.begin();
  recordApprovals(deps.db, deps.auditor, prepared.requestId, approvalDocs.map(parseApproval), now);
  const total = prepared.chain === 'btc' ? prepared.plan.requests.length : 1;
  const signed = await signPrepared(
    prepared,
    withProgress(deps.signer, total, options.onProgress),
    fastVerifier,
  );
  const output = await exportSigned(prepared, signed, options.format, {
    fragmentBytes: options.fragmentBytes,
    withQr: options.withQr,
    urType: options.urType,
  });
  const outputDigest = sha256Hex(output.bytes);
  const outputPath = options.outputPath ? options.outputPath(output.suffix) : null;
  recordSignatures(
    deps.db,
    deps.auditor,
    {
      requestId: prepared.requestId,
      rule: decision.rule ?? '',
      summary: prepared.summary,
      signatures: signed.signatures.map((s) => ({ keyLabel: s.key, signature: s.signature })),
      ...(outputPath ? { output: { path: outputPath, digest: outputDigest } } : {}),
    },
    now,
  );
  const entry = { seq: auditHead(deps.db).seq };
  await deps.auditor.checkpoint(now);
  const outputs = outputPath ? [outputPath] : [];
  return {
    report: buildReport(prepared, decision, 'signed', approvals, outputs, entry.seq),
    output,
    outputDigest,
  };
}
