/**
 * ApplianceSession: the one implementation of ApplianceApi over the real core — the home's config,
 * the SQLite database, the HSM (embedded SoftHSM2 or a PKCS#11 module), chains, policy and QR.
 * The CLI and the desktop app's main process both use it.
 */
import { makeError } from '../core/errors.js';
import type { KeyRecord } from '../core/signer.js';
import { Hsm } from '../hsm/index.js';
import { useSoftHsmHome } from '../hsm/softhsm.js';
import { openDatabase, type ColdsignDb } from '../store/database.js';
import { readConfig, resolveHome, type ColdsignConfig, type Home } from '../store/home.js';
import type {
  ApplianceApi,
  ApprovalDocument,
  AuditEntryView,
  GenerateKeyOptions,
  InputFile,
  ReviewView,
  SignResult,
} from './api.js';
import { generateKey } from './keys.js';
import { buildReviewModel, type ReviewModel } from './review-model.js';
import type { Decision, SigningSummary } from '../core/summary.js';
import { loadOfficerKey, signApproval } from '../store/officer-keys.js';
import { getQuorum, listOfficers } from '../store/officers.js';
import { applyPolicy } from '../store/policies.js';
import { exportAudit } from '../store/audit-export.js';
import { formatPolicy } from '../policy/format.js';
import { parsePolicy } from '../policy/schema.js';
import { assertKeyLabelsExist } from '../policy/allowlist-checks.js';
import { checkPolicyUpgrade, verifyPolicySignatures } from '../policy/signing.js';
import {
  currentPolicy,
  previewInputs,
  reviewInputs,
  signReviewed,
  type Reviewed,
  type SignOptions,
  type SignOutcome,
} from './pipeline.js';
import { nodeQrReader } from './qr-reader.js';
import { Auditor } from '../store/audit.js';
import { hsmAuditPorts } from '../store/audit-hsm.js';

/** Reviewed requests kept in memory for approval and signature. */
const MAX_PENDING_REVIEWS = 32;

export class ApplianceSession implements ApplianceApi {
  readonly home: Home;
  readonly config: ColdsignConfig;
  readonly db: ColdsignDb;
  private hsm: Hsm | undefined;
  private auditor: Auditor | undefined;
  /** Requests reviewed in this session, by request id, waiting for approvals and signature. */
  private readonly reviewed = new Map<string, Reviewed>();
  /** Clock, replaceable for tests of time windows. */
  now: () => Date = () => new Date();

  /** Opens the home `homeDir` (or COLDSIGN_HOME / ~/.coldsign). */
  constructor(homeDir?: string) {
    this.home = resolveHome(homeDir ? { ...process.env, COLDSIGN_HOME: homeDir } : process.env);
    this.config = readConfig(this.home);
    this.db = openDatabase(this.home.databasePath);
  }

  async unlock(pin: string): Promise<{ keys: KeyRecord[] }> {
    if (!pin) throw makeError('HSM_PIN_REQUIRED', 'Enter the HSM user PIN to unlock.');
    await this.lock();
    if (this.config.hsm.embedded) useSoftHsmHome(this.home.dir);
    const hsm = Hsm.open({ module: this.config.hsm.module, token: this.config.hsm.token }, pin);
    try {
      // Start-up: the database must match the audit checkpoint pinned in the HSM (anti-rollback).
      this.auditor = await Auditor.open(this.db, await hsmAuditPorts(hsm), this.now());
    } catch (error) {
      hsm.close();
      throw error;
    }
    this.hsm = hsm;
    return { keys: await this.listKeys() };
  }

  async lock(): Promise<void> {
    const hsm = this.hsm;
    this.hsm = undefined;
    this.auditor = undefined;
    this.reviewed.clear();
    hsm?.close();
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

  /** Reviews one request (CLI `inspect`, the app's review screen): recorded in the audit log. */
  async reviewRequest(
    inputs: InputFile[],
    onProgress?: (done: number, total: number) => void,
    options?: { checkpoint?: boolean },
  ): Promise<Reviewed> {
    const reviewed = await reviewInputs(this.deps(), inputs, onProgress, options);
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
  async preview(
    inputs: InputFile[],
  ): Promise<{ requestId: string; summary: SigningSummary; decision: Decision; model: ReviewModel }> {
    const { prepared, decision } = await previewInputs(
      { db: this.db, qr: nodeQrReader, now: this.now },
      inputs,
    );
    const model = buildReviewModel({
      requestId: prepared.requestId,
      summary: prepared.summary,
      decision,
      policy: currentPolicy(this.db),
      now: this.now(),
    });
    return { requestId: prepared.requestId, summary: prepared.summary, decision, model };
  }

  /** Signs a reviewed request (CLI `sign`); the caller writes the output only after this returns. */
  async signRequest(requestId: string, approvals: unknown[], options: SignOptions): Promise<SignOutcome> {
    const reviewed = this.reviewed.get(requestId);
    if (!reviewed)
      throw makeError(
        'REQUEST_INVALID',
        `Request ${requestId.slice(0, 12)}… has not been reviewed in this session.`,
      );
    return signReviewed(this.deps(), reviewed, approvals, options);
  }

  isUnlocked(): boolean {
    return this.hsm !== undefined;
  }

  /** The logged-in HSM, or HSM_PIN_REQUIRED. */
  requireHsm(): Hsm {
    if (!this.hsm)
      throw makeError('HSM_PIN_REQUIRED', 'The appliance is locked: unlock it with the HSM user PIN first.');
    return this.hsm;
  }

  async listKeys(): Promise<KeyRecord[]> {
    return this.db.listKeys();
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
    const approval = signApproval(requestId, officer, this.now());
    return {
      requestId: approval.requestId,
      officer: approval.officer,
      signature: approval.signature,
      createdAt: approval.createdAt,
      type: approval.type,
    };
  }

  async sign(requestId: string, approvals: ApprovalDocument[]): Promise<SignResult> {
    let name = '';
    const outcome = await this.signRequest(requestId, approvals, {
      format: 'auto',
      outputPath: (suffix) => (name = `request-${requestId.slice(0, 12)}${suffix}`),
      withQr: true,
    });
    const { output } = outcome;
    return {
      report: outcome.report,
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

  async policyShow(): Promise<{ document: unknown | null; text: string }> {
    const policy = currentPolicy(this.db);
    return {
      document: policy,
      text: policy ? formatPolicy(policy) : 'No policy is in force: every request is refused (default deny).',
    };
  }

  async policyPreview(document: unknown): Promise<{ text: string; diff: string[] }> {
    const next = parsePolicy(document);
    assertKeyLabelsExist(
      next,
      this.db.listKeys().map((k) => k.label),
    );
    verifyPolicySignatures(next, listOfficers(this.db), getQuorum(this.db) ?? 1);
    const current = currentPolicy(this.db);
    checkPolicyUpgrade(current, next);
    const before = current ? formatPolicy(current).split('\n') : [];
    const after = formatPolicy(next).split('\n');
    const diff = [
      ...before.filter((l) => !after.includes(l)).map((l) => `- ${l}`),
      ...after.filter((l) => !before.includes(l)).map((l) => `+ ${l}`),
    ];
    return { text: formatPolicy(next), diff };
  }

  async policyApply(document: unknown): Promise<{ version: number }> {
    this.requireHsm();
    assertKeyLabelsExist(
      parsePolicy(document),
      this.db.listKeys().map((k) => k.label),
    );
    const applied = await applyPolicy(this.db, this.auditor as Auditor, document, this.now());
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

  async auditVerify(): Promise<{ ok: boolean; entries: number; firstBad?: { seq: number; reason: string } }> {
    this.requireHsm();
    const result = await (this.auditor as Auditor).verify();
    return {
      ok: result.ok,
      entries: result.entries,
      ...(result.firstBad ? { firstBad: result.firstBad } : {}),
    };
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
