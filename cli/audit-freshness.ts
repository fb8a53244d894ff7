/** One line on the last full verification of the audit log, for `hsm info` and `audit verify`. */
import type { FullVerificationStatus } from '../appliance/hsm-info.js';

export function describeFullVerification(status: FullVerificationStatus | { status: string }): string {
  if (!('every' in status)) return `Audit:    full verification ${status.status}`;
  const last = status.last
    ? `last full verification ${status.last.time}: ${status.last.ok ? `OK, ${status.last.entries} entries` : `FAILED at entry ${status.last.firstBad?.seq ?? '?'}`}`
    : 'never fully verified';
  const okSince = status.lastOk && status.last && !status.last.ok ? ` (last success ${status.lastOk})` : '';
  const due = status.overdue
    ? ` — OVERDUE (every ${status.every}): run \`coldsign audit verify\``
    : ` (every ${status.every})`;
  return `Audit:    ${last}${okSince}${due}`;
}
