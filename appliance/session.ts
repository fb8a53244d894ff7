/**
 * ApplianceSession: the one implementation of ApplianceApi over the real core — the home's config,
 * the SQLite database, the HSM (embedded SoftHSM2 or a PKCS#11 module), chains, policy and QR.
 * The CLI and the desktop app's main process both use it.
 */
import { makeError } from '../core/errors.js';
import type { KeyRecord } from '../core/signer.js';
import { Hsm } from '../hsm/index.js';
import { useSoftHsmHome } from '../hsm/softhsm.js';
import { openDatabase, openDatabaseSnapshot, type ColdsignDb } from '../store/database.js';
import { readConfig, resolveHome, type ColdsignConfig, type Home } from '../store/home.js';
import type {
  ApplianceApi,
  ApprovalDocument,
  ApprovalPreview,
  AuditEntryView,
  GenerateKeyOptions,
  InputFile,
  ReviewView,
  SignResult,
} from './api.js';
import { generateKey } from './keys.js';
import { buildReviewModel, refusalReason, type ReviewModel } from './review-model.js';
import { loadOfficerKey, signApproval } from '../store/officer-keys.js';
import { getQuorum, listOfficers } from '../store/officers.js';
import { applyPolicy } from '../store/policies.js';
import { exportAudit } from '../store/audit-export.js';
import { formatPolicy } from '../policy/format.js';
import { parsePolicy, type PolicyDocument } from '../policy/schema.js';
import { parsePolicyText } from '../policy/text.js';
import { assertKeyLabelsExist } from '../policy/allowlist-checks.js';
import { checkPolicyAppliance, checkPolicyUpgrade, verifyPolicySignatures } from '../policy/signing.js';
import {
  approvalBinding,
  currentPolicy,
  previewInputs,
  signBatch,
  reviewInputs,
  type Reviewed,
  type SignOptions,
  type SignOutcome,
} from './pipeline.js';
import { nodeQrReader } from './qr-reader.js';
import { refuseOversizedQrAnswer } from '../core/pipeline/export.js';
import { policyDiff } from './policy-diff.js';
import { Auditor, type AuditHead, type SignatureCheck } from '../store/audit.js';
import { approvalExpiryMs } from '../policy/approvals.js';
import { openHsmAuditor } from '../store/audit-hsm.js';
import { fullVerificationStatus, type FullVerificationStatus } from '../store/audit-freshness.js';
import { recordedReanchors, type RecordedReanchor } from '../store/reanchor.js';
import { auditPublicKeyOf } from '../store/audit.js';
import type { KeyExportResult } from './key-export.js';
import { fullAuditReport, type AuditVerifyReport } from './audit-verify.js';
import { interruptionWarning } from './audit-discard-lines.js';

export type { Reviewed } from './pipeline.js';

/** Reviewed requests kept in memory for approval and signature. */
const MAX_PENDING_REVIEWS = 32;

export class ApplianceSession implements ApplianceApi {
  readonly home: Home;
  readonly config: ColdsignConfig;
  private readonly db: ColdsignDb;
  private hsm: Hsm | undefined;
  private auditor: Auditor | undefined;
  /** Requests reviewed in this session, by request id, waiting for approvals and signature. */
  private readonly reviewed = new Map<string, Reviewed>();
  /** Audit problems after unlock that did not stop the work (takeAuditWarnings). */
  private readonly lateAuditWarnings: string[] = [];
  /** The audit head checked by the last unlock. */
  private unlockHead: AuditHead | undefined;
  /** What the last unlock's start-up found a stopped process left (a discard, an unfinished signing), in words. */
  private unlockNotice: string | undefined;
  /** Clock, replaceable for tests of time windows. */
  now: () => Date = () => new Date();

  /** Opens the home `homeDir` (or COLDSIGN_HOME / ~/.coldsign); `readOnly` reads a snapshot (read-only media). */
  constructor(homeDir?: string, options: { readOnly?: boolean } = {}) {
    this.home = resolveHome(homeDir ? { ...process.env, COLDSIGN_HOME: homeDir } : process.env);
    this.config = readConfig(this.home);
    this.db = options.readOnly
      ? openDatabaseSnapshot(this.home.databasePath)
      : openDatabase(this.home.databasePath);
  }

  /** Unlocks the HSM and verifies the database against it; returns the keys and the checkpoint head (seq, hash). */
  async unlock(pin: string): Promise<{ keys: KeyRecord[]; head: AuditHead; auditWarning?: string }> {
    if (!pin) throw makeError('HSM_PIN_REQUIRED', 'Enter the HSM user PIN to unlock.');
    await this.lock();
    if (this.config.hsm.embedded) useSoftHsmHome(this.home.dir);
    const hsm = Hsm.open(this.config.hsm, pin);
    try {
      // Start-up: the database must match the audit checkpoint pinned in the HSM (anti-rollback).
      this.auditor = await openHsmAuditor(this.db, hsm, this.now());
    } catch (error) {
      hsm.close();
      throw error;
    }
    this.hsm = hsm;
    this.unlockHead = this.auditor.head;
    // Work a stopped process left, which start-up discarded or closed: said until the log verifies or the app locks.
    this.unlockNotice = interruptionWarning(this.auditor.interruption);
    // Start-up does not re-hash old history: say so when the full verification is overdue (policy audit.fullVerifyEvery).
    const warning = this.auditWarningNow([]);
    return {
      keys: await this.listKeys(),
      head: this.auditor.head,
      ...(warning ? { auditWarning: warning } : {}),
    };
  }

  async lock(): Promise<void> {
    const hsm = this.hsm;
    this.hsm = undefined;
    this.auditor = undefined;
    this.reviewed.clear();
    try {
      await hsm?.stopSignWorkers();
    } finally {
      hsm?.close();
    }
  }

  private deps() {
    const hsm = this.requireHsm();
    return {
      db: this.db,
      auditor: this.auditor as Auditor,
      signer: hsm.signer,
      qr: nodeQrReader,
      now: this.now,
    };
  }

  /**
   * Reviews one request (CLI `inspect` and `sign`, the app's review screen): recorded in the audit log. Every review
   * commits entries, so the audit begin (an HSM pin write) starts before the request is read and runs while it is
   * reviewed; the commit waits for it. A review that ends without an entry (unreadable or malformed input) closes
   * the pin again (docs/audit.md).
   */
  async reviewRequest(
    inputs: InputFile[],
    onProgress?: (done: number, total: number) => void,
    options?: { checkpoint?: boolean },
  ): Promise<Reviewed> {
    const deps = this.deps();
    deps.auditor.beginAhead();
    let reviewed: Reviewed;
    try {
      reviewed = await reviewInputs(deps, inputs, onProgress, options);
    } catch (error) {
      await this.withdrawBegin(deps.auditor);
      throw error;
    }
    this.reviewed.delete(reviewed.prepared.requestId);
    this.reviewed.set(reviewed.prepared.requestId, reviewed);
    // Only the latest reviews wait for a signature; older ones must be scanned again.
    for (const requestId of this.reviewed.keys()) {
      if (this.reviewed.size <= MAX_PENDING_REVIEWS) break;
      this.reviewed.delete(requestId);
    }
    return reviewed;
  }

  /** Summary and verdict of a request without recording it (no PIN needed): what an officer approves. */
  async approvalPreview(inputs: InputFile[]): Promise<ApprovalPreview> {
    const { prepared, decision, policy } = await previewInputs(
      { db: this.db, qr: nodeQrReader, now: this.now },
      inputs,
    );
    const model = buildReviewModel({
      requestId: prepared.requestId,
      summary: prepared.summary,
      decision,
      policy,
      now: this.now(),
    });
    return {
      requestId: prepared.requestId,
      summary: prepared.summary,
      decision,
      binding: approvalBinding(this.db, prepared, policy?.version ?? null),
      expiryMs: approvalExpiryMs(policy),
      model,
    };
  }

  /**
   * Signs reviewed requests as one batch (CLI `sign A B`): every request is decided with its own
   * approvals first, and either all are signed or none (the first refusal is thrown).
   */
  async signRequests(
    requestIds: readonly string[],
    approvals: unknown[],
    options: (reviewed: Reviewed) => SignOptions,
  ): Promise<SignOutcome[]> {
    const batch = requestIds.map((requestId) => {
      const reviewed = this.reviewed.get(requestId);
      if (!reviewed)
        throw makeError(
          'REQUEST_INVALID',
          `Request ${requestId.slice(0, 12)}… has not been reviewed in this session.`,
        );
      return reviewed;
    });
    // A network HSM (not SoftHSM2) signs in worker threads, started at the first signature (docs/hsm.md).
    await this.requireHsm().startProfileSignWorkers();
    return signBatch(this.deps(), batch, approvals, options);
  }

  isUnlocked(): boolean {
    return this.hsm !== undefined;
  }

  /**
   * What unlock answered, for a front end that reloads while unlocked: the head checked at unlock, the work a stopped
   * process left, and the full verification warning as it stands now (a verification since the unlock clears it).
   */
  async unlockStatus(): Promise<{ head: AuditHead; auditWarning?: string }> {
    this.requireHsm();
    const warning = this.auditWarningNow(this.takeAuditWarnings());
    return { head: this.unlockHead!, ...(warning ? { auditWarning: warning } : {}) };
  }

  /** The unlock's sentence about a stopped process, the full verification warning as it stands, and `late` ones. */
  private auditWarningNow(late: string[]): string {
    const { warning: verification } = fullVerificationStatus(this.db, this.now());
    return [this.unlockNotice, verification, ...late].filter(Boolean).join('; ');
  }

  /**
   * Closes the pin a review opened when it ended without an entry. A failure leaves the pin open (the next start-up
   * closes it, so nothing is lost): it is reported like the other non-fatal audit problems, as an audit warning.
   */
  private async withdrawBegin(auditor: Auditor): Promise<void> {
    try {
      await auditor.withdrawBegin();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.lateAuditWarnings.push(
        `the audit pin opened for a review that recorded nothing could not be closed again (${reason}); the next unlock closes it`,
      );
    }
  }

  /**
   * Audit warnings that arose after unlock (a pin left open by an unfinished review), each given once: the CLI prints
   * them before it exits, the app shows them with unlockStatus.
   */
  takeAuditWarnings(): string[] {
    return this.lateAuditWarnings.splice(0);
  }

  /** The logged-in HSM, or HSM_PIN_REQUIRED. */
  requireHsm(): Hsm {
    if (!this.hsm)
      throw makeError('HSM_PIN_REQUIRED', 'The appliance is locked: unlock it with the HSM user PIN first.');
    return this.hsm;
  }

  /** Checkpoints reviews recorded without one (`checkpoint: false`) when the signing they were for will not run. */
  async closeReviews(): Promise<void> {
    if (this.auditor) await this.auditor.checkpoint(this.now());
  }

  async listKeys(): Promise<KeyRecord[]> {
    return this.db.listKeys();
  }

  /** The key with this label, or undefined. */
  async findKey(label: string): Promise<KeyRecord | undefined> {
    return this.db.findKey(label);
  }

  /** Watch-only export of keys for an online wallet (appliance/key-export.ts); public records only. */
  async keyExport(
    labels: string[],
    format: string,
    options: { qr?: boolean; fragmentBytes?: number } = {},
  ): Promise<KeyExportResult> {
    // Loaded on use: its UR encoder (bc-ur and its dependencies) is not needed to sign.
    const { exportKeys } = await import('./key-export.js');
    return exportKeys({ db: this.db }, labels, format, options);
  }

  async generateKey(options: GenerateKeyOptions): Promise<KeyRecord> {
    const hsm = this.requireHsm();
    return generateKey(this.db, this.auditor as Auditor, hsm, options, this.now());
  }

  async review(inputs: InputFile[]): Promise<ReviewView> {
    const reviewed = await this.reviewRequest(inputs);
    return {
      report: reviewed.report,
      model: this.reviewModel(reviewed),
      summary: reviewed.prepared.summary,
      decision: reviewed.decision,
    };
  }

  /** The review model of a reviewed request under the policy in force (what every front end renders). */
  reviewModel(reviewed: Reviewed, approvalsGiven: string[] | null = null): ReviewModel {
    return buildReviewModel({
      requestId: reviewed.prepared.requestId,
      summary: reviewed.prepared.summary,
      decision: reviewed.decision,
      policy: currentPolicy(this.db),
      approvalsGiven,
      now: this.now(),
    });
  }

  async approve(requestId: string, officerKeyPem: string, passphrase: string): Promise<ApprovalDocument> {
    if (!this.reviewed.has(requestId)) {
      throw makeError(
        'REQUEST_INVALID',
        `Request ${requestId.slice(0, 12)}… has not been reviewed in this session.`,
      );
    }
    const officer = loadOfficerKey(officerKeyPem, passphrase);
    if (!listOfficers(this.db).some((o) => o.name === officer.name && o.publicKey === officer.publicKey)) {
      throw makeError('APPROVAL_INVALID', `"${officer.name}" is not an enrolled officer of this appliance.`);
    }
    const reviewed = this.reviewed.get(requestId)!;
    refuseApprovalOfDenied(this.reviewModel(reviewed));
    const policy = currentPolicy(this.db);
    return signApproval(
      approvalBinding(this.db, reviewed.prepared, reviewed.policyVersion),
      officer,
      this.now(),
      approvalExpiryMs(policy),
    );
  }

  async sign(requestId: string, approvals: ApprovalDocument[]): Promise<SignResult> {
    let name = '';
    // An answer that must be an animated UR and cannot fit one is refused before the HSM signs anything.
    const reviewed = this.reviewed.get(requestId);
    if (reviewed) await refuseOversizedQrAnswer(reviewed.prepared, 'auto');
    const [outcome] = await this.signRequests([requestId], approvals, () => ({
      format: 'auto',
      outputPath: (suffix) => (name = `request-${requestId.slice(0, 12)}${suffix}`),
      withQr: true,
    }));
    const { output } = outcome!;
    return {
      report: outcome!.report,
      outputs: [
        {
          name,
          bytes: output.bytes,
          mime: output.mime,
          urParts: output.urParts,
          description: output.description,
        },
      ],
    };
  }

  /** The policy in force, and this appliance's audit public key (the `appliance` a new policy must name). */
  async policyShow(): Promise<{ document: unknown | null; text: string; appliance: string }> {
    const policy = currentPolicy(this.db);
    return {
      document: policy,
      appliance: auditPublicKeyOf(this.db) ?? '',
      text: policy ? formatPolicy(policy) : 'No policy is in force: every request is refused (default deny).',
    };
  }

  async policyPreview(text: string): Promise<{ text: string; diff: string[] }> {
    const next = parsePolicy(parsePolicyText(text));
    assertKeyLabelsExist(
      next,
      this.db.listKeys().map((k) => k.label),
    );
    verifyPolicySignatures(next, listOfficers(this.db), getQuorum(this.db) ?? 1);
    const current = currentPolicy(this.db);
    checkPolicyUpgrade(current, next);
    checkPolicyAppliance(next, auditPublicKeyOf(this.db) ?? '');
    return { text: formatPolicy(next), diff: policyDiff(current, next) };
  }

  async policyApply(text: string): Promise<{ version: number }> {
    this.requireHsm();
    const document = parsePolicyText(text);
    assertKeyLabelsExist(
      parsePolicy(document),
      this.db.listKeys().map((k) => k.label),
    );
    const applied = await applyPolicy(this.auditor as Auditor, document, this.now());
    // Requests reviewed under the previous policy are reviewed again under this one before they are signed.
    this.reviewed.clear();
    return { version: applied.version };
  }

  async auditList(fromSeq: number, limit: number): Promise<AuditEntryView[]> {
    const rows = this.db.sqlite
      .prepare('SELECT seq, time, type, payload, hash FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?')
      .all(Math.max(1, fromSeq), Math.min(Math.max(1, limit), 1000)) as Array<{
      seq: number;
      time: string;
      type: string;
      payload: string;
      hash: string;
    }>;
    return rows.map((r) => ({
      seq: r.seq,
      time: r.time,
      type: r.type,
      payload: JSON.parse(r.payload) as unknown,
      hash: r.hash,
    }));
  }

  /**
   * Verifies the whole log (the chain hashed once, the state each checkpoint commits to, the state
   * tables row by row, the newest checkpoint signature or all of them) against the HSM pin.
   */
  async auditVerify(signatures: SignatureCheck = 'newest'): Promise<AuditVerifyReport> {
    this.requireHsm();
    const report = await fullAuditReport(this.auditor as Auditor, signatures, this.now());
    // A verified log lists the unfinished work itself: the unlock's sentence about it has been answered.
    if (report.ok) this.unlockNotice = undefined;
    return report;
  }

  /** The last full verification of the log and whether it is overdue (policy audit.fullVerifyEvery). */
  fullVerification(): FullVerificationStatus {
    return fullVerificationStatus(this.db, this.now());
  }

  /** The officers' re-anchors recorded in the log (after rollback alarms). */
  reanchors(): RecordedReanchor[] {
    return recordedReanchors(this.db);
  }

  /** The policy in force (null: none, every request refused). */
  policyInForce(): PolicyDocument | null {
    return currentPolicy(this.db);
  }

  /** The audit public key (SEC 1 compressed, hex) that signs the checkpoints; empty before init. */
  async auditPublicKey(): Promise<string> {
    return auditPublicKeyOf(this.db) ?? '';
  }

  async auditExport(): Promise<{ name: string; text: string }> {
    const now = this.now();
    return {
      name: `coldsign-audit-${now.toISOString().slice(0, 10)}.jsonl`,
      text: exportAudit(this.db, now),
    };
  }

  async close(): Promise<void> {
    await this.lock();
    this.db.close();
  }
}

/** `approve` of a request the policy refuses: the officer is warned and nothing is signed (exit 4). */
export function refuseApprovalOfDenied(model: ReviewModel): void {
  if (model.verdict.allowed) return;
  const why = refusalReason(model.verdict);
  throw makeError(
    'POLICY_DENIED',
    `The policy refuses request ${model.requestId.slice(0, 12)}…${why ? ` (${why.message.replace(/\.$/, '')})` : ''}; an approval would not make it signable, so none was made.`,
    { requestId: model.requestId },
  );
}
