/**
 * The appliance as a service: what the desktop app's main process (and its browser test host) and the CLI
 * call. One implementation (appliance/session.ts) over the real core: HSM, SQLite, chains, policy, QR.
 * Every method either resolves or throws a ColdsignError (stable code, one-sentence message).
 * A new home is made by initAppliance (appliance/init.ts); offline checks of an exported log are in
 * appliance/audit-file.ts. The CLI reaches the store, the HSM and the QR registries only through here.
 */
import type { Decision, SigningSummary } from '../core/summary.js';
import type { BtcNetwork, BtcScriptType, Chain, KeyRecord } from '../core/signer.js';
import type { ApprovalBinding } from '../policy/approvals.js';
import type { KeyExportResult } from './key-export.js';
import type { ReviewModel } from './review-model.js';
import type { AuditVerifyReport } from './audit-verify.js';

/** A file or a camera/QR capture handed to the appliance. Content decides the format, never the name. */
export interface InputFile {
  name: string;
  bytes: Uint8Array;
}

/** The SPEC.md `--json` report of `inspect` and `sign` (fixed top-level fields). */
export interface RequestReport {
  requestId: string;
  chain: Chain;
  kind: 'psbt' | 'transaction' | 'message' | 'typed_data';
  summary: Record<string, unknown>;
  policy: {
    allowed: boolean;
    rule: string | null;
    /** When refused: the rule that failed on the fewest checks (its reasons come first). */
    closestRule?: string | null;
    requiredApprovals: number;
    approvals: string[];
    reasons: Array<{ rule: string; ok: boolean; message: string }>;
  };
  status: 'inspected' | 'signed' | 'refused';
  outputs: string[];
  /**
   * The entry that records the outcome, and the checkpoint head (seq, hash) after it: compare heads across exports.
   * `warning`: the unlock's audit warning, when it had one (added by the CLI's --json, which also prints it on stderr).
   */
  audit: { seq: number; head: { seq: number; hash: string }; warning?: string };
  /** The review model the operator saw (added by the front ends' --json; appliance/review-model.ts). */
  review?: ReviewModel;
}

/** What the operator reviews: the report, the review model every front end renders, and the raw summary and decision. */
export interface ReviewView {
  report: RequestReport;
  model: ReviewModel;
  summary: SigningSummary;
  decision: Decision;
}

/** An officer's approval of one request (Ed25519 over the request id). */
export interface ApprovalDocument {
  type: 'coldsign-approval';
  requestId: string;
  /** Labels of the keys that sign the request: the approval is for those keys only. */
  keys: string[];
  /** The policy version in force when the officer approved. */
  policyVersion: number;
  officer: string;
  signature: string;
  createdAt: string;
  expiresAt: string;
}

/** What an officer sees and binds before approving: the request's verdict, without recording it. */
export interface ApprovalPreview {
  requestId: string;
  summary: SigningSummary;
  decision: Decision;
  /** What an approval binds (request id, signing keys, policy version) and how long it lasts. */
  binding: ApprovalBinding;
  expiryMs: number;
  model: ReviewModel;
}

export interface SignedOutput {
  /** Suggested file name, e.g. "request-ab12cd.signed.psbt". */
  name: string;
  bytes: Uint8Array;
  mime: string;
  /** UR parts to show as an animated QR (one part when it fits a single frame). */
  urParts: string[];
  /** Human description, e.g. "signed PSBT (base64)", "raw transaction 0x… (hash 0x…)". */
  description: string;
}

export interface SignResult {
  report: RequestReport;
  outputs: SignedOutput[];
}

export interface GenerateKeyOptions {
  chain: Chain;
  label: string;
  script?: BtcScriptType;
  network?: BtcNetwork;
}

export interface AuditEntryView {
  seq: number;
  time: string;
  type: string;
  payload: unknown;
  hash: string;
}

export interface ApplianceApi {
  /** Logs in to the HSM with the operator's PIN (HSM_PIN_INCORRECT / HSM_PIN_LOCKED explained; never retried). */
  /** The keys, and the audit checkpoint head checked at unlock (seq, hash). */
  /**
   * `auditWarning`: what start-up found a stopped process left (a discard, a signing with no recorded signature),
   * and/or that the whole log was not verified within the policy's audit.fullVerifyEvery (or never).
   */
  unlock(
    pin: string,
  ): Promise<{ keys: KeyRecord[]; head: { seq: number; hash: string }; auditWarning?: string }>;
  lock(): Promise<void>;
  isUnlocked(): boolean;
  /** While unlocked: the head checked at unlock and the audit warning as it stands now (a reloaded page asks). */
  unlockStatus(): Promise<{ head: { seq: number; hash: string }; auditWarning?: string }>;
  listKeys(): Promise<KeyRecord[]>;
  generateKey(options: GenerateKeyOptions): Promise<KeyRecord>;
  /** Watch-only export of keys for an online wallet (format table in appliance/key-export.ts; public records only). */
  keyExport(
    labels: string[],
    format: string,
    options?: { qr?: boolean; fragmentBytes?: number },
  ): Promise<KeyExportResult>;
  /** Decodes the inputs (files, QR images, UR parts) into one request and reviews it against the policy. */
  review(inputs: InputFile[]): Promise<ReviewView>;
  /** What an officer approves: the request's verdict and what an approval binds, without recording it. */
  approvalPreview(inputs: InputFile[]): Promise<ApprovalPreview>;
  /** An officer approves a reviewed request with their encrypted key file and passphrase. */
  approve(requestId: string, officerKeyPem: string, passphrase: string): Promise<ApprovalDocument>;
  /** Signs a reviewed request (refused by policy: POLICY_DENIED / APPROVALS_MISSING). */
  sign(requestId: string, approvals: ApprovalDocument[]): Promise<SignResult>;
  policyShow(): Promise<{ document: unknown | null; text: string; appliance: string }>;
  /**
   * Validates a signed policy document, given as its JSON text (read strictly: at most 1 MiB, a repeated key is
   * JSON_DUPLICATE_KEY), and returns the change against the active one, without applying it.
   */
  policyPreview(text: string): Promise<{ text: string; diff: string[] }>;
  /** Applies a signed policy document given as its JSON text (read as policyPreview reads it). */
  policyApply(text: string): Promise<{ version: number }>;
  auditList(fromSeq: number, limit: number): Promise<AuditEntryView[]>;
  /** The whole log verified, with its unfinished signings and discards (what `audit verify --json` prints). */
  auditVerify(): Promise<AuditVerifyReport>;
  auditExport(): Promise<{ name: string; text: string }>;
  /** The audit public key (SEC 1 compressed, hex) that signs the checkpoints. */
  auditPublicKey(): Promise<string>;
}
