/**
 * An exported audit log checked offline (no HSM, no home): the hash chain, the signed checkpoints, and the audit key
 * — pinned when the auditor gives it — with the unfinished signings and discards it records, as `audit verify`
 * reports them on the appliance. The CLI's way to it: the ESLint layer rules let cli/ reach the store through
 * appliance/ only.
 */
import { verifyAuditExport, type AuditExportVerification } from '../store/audit-export.js';
import { discardReports, type DiscardReport } from './audit-discard-report.js';

export interface AuditExportReport extends Omit<AuditExportVerification, 'discards'> {
  /** Each "audit.discarded" entry with the unfinished signings whose closing entries it dropped. */
  discarded?: DiscardReport[];
}

export function verifyAuditExportReport(text: string, expectedPublicKey?: string): AuditExportReport {
  const { discards, ...result } = verifyAuditExport(text, expectedPublicKey);
  if (!discards) return result;
  return { ...result, discarded: discardReports(discards, result.unfinishedSignings ?? []) };
}
