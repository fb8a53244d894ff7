/**
 * An exported audit log checked offline (no HSM, no home): the hash chain, the signed checkpoints, and the
 * audit key — pinned when the auditor gives it.
 */
export { verifyAuditExport, type AuditExportVerification } from '../store/audit-export.js';
