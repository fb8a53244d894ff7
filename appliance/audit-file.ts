/**
 * An exported audit log checked offline (no HSM, no home): the hash chain, the signed checkpoints, and the audit key
 * — pinned when the auditor gives it. The CLI's way to it: the ESLint layer rules let cli/ reach the store through
 * appliance/ only.
 */
export { verifyAuditExport } from '../store/audit-export.js';
