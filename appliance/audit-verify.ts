/**
 * `audit verify` of a home with only what the full verification needs: the home's configuration,
 * the database, the HSM (for the audit key and the pin) and the audit log. The CLI loads this module
 * alone for the command — no chain, policy or QR code — so the process that stitches the verification
 * stays small (docs/audit.md "Full verification"); ApplianceSession.auditVerify uses the same report.
 */
import { makeError } from '../core/errors.js';
import { Hsm } from '../hsm/index.js';
import { useSoftHsmHome } from '../hsm/softhsm.js';
import type { Auditor, AuditHead, SignatureCheck } from '../store/audit.js';
import { auditPublicKeyOf } from '../store/audit.js';
import { openHsmAuditor } from '../store/audit-hsm.js';
import { fullVerificationStatus, type FullVerificationStatus } from '../store/audit-freshness.js';
import { openDatabase } from '../store/database.js';
import type { ColdsignConfig, Home } from '../store/home.js';
import { recordedReanchors, type RecordedReanchor } from '../store/reanchor.js';
import { recordedDiscards } from '../store/audit-discards.js';
import { discardReports, type DiscardReport, type UnfinishedSigning } from './audit-discard-report.js';

/** What a full verification reports (the fields `audit verify --json` prints). */
export interface AuditVerifyReport {
  ok: boolean;
  entries: number;
  head: AuditHead;
  firstBad?: { seq: number; reason: string };
  unfinishedSignings?: UnfinishedSigning[];
  /**
   * Every "audit.discarded" entry (a tail a crashed process left beyond an open pin, dropped at
   * start-up), with the unfinished signings whose signature entries it dropped; given when the log verifies.
   */
  discarded?: DiscardReport[];
}

/** Verifies the whole log against the pin (Auditor.verify) and keeps the reported fields, with the discards. */
export async function fullAuditReport(
  auditor: Auditor,
  signatures: SignatureCheck,
  now: Date,
): Promise<AuditVerifyReport> {
  const result = await auditor.verify(signatures, now);
  return {
    ok: result.ok,
    entries: result.entries,
    head: result.head,
    ...(result.firstBad ? { firstBad: result.firstBad } : {}),
    ...(result.unfinishedSignings ? { unfinishedSignings: result.unfinishedSignings } : {}),
    ...(result.ok
      ? { discarded: discardReports(recordedDiscards(auditor.db), result.unfinishedSignings ?? []) }
      : {}),
  };
}

/**
 * Unlocks the HSM of `home` (held for writing by the caller), opens the log from its pin as every
 * unlock does, and verifies it whole. `onUnlocked` sees the checkpoint head before the long part.
 */
export async function verifyHomeAudit(
  home: Home,
  config: ColdsignConfig,
  pin: string,
  signatures: SignatureCheck,
  onUnlocked: (head: AuditHead) => void = () => {},
  now: () => Date = () => new Date(),
): Promise<{
  result: AuditVerifyReport;
  auditPublicKey: string;
  fullVerify: FullVerificationStatus;
  reanchors: RecordedReanchor[];
}> {
  if (!pin) throw makeError('HSM_PIN_REQUIRED', 'Enter the HSM user PIN to unlock.');
  const db = openDatabase(home.databasePath);
  try {
    if (config.hsm.embedded) useSoftHsmHome(home.dir);
    const hsm = Hsm.open(config.hsm, pin);
    try {
      const auditor = await openHsmAuditor(db, hsm, now());
      onUnlocked(auditor.head);
      return {
        result: await fullAuditReport(auditor, signatures, now()),
        auditPublicKey: auditPublicKeyOf(db) ?? '',
        fullVerify: fullVerificationStatus(db, now()),
        reanchors: recordedReanchors(db),
      };
    } finally {
      hsm.close();
    }
  } finally {
    db.close();
  }
}
