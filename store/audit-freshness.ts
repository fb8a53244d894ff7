/**
 * How long ago the whole audit log was last verified (`audit verify`), against the period the policy
 * sets (`audit.fullVerifyEvery`, default 30 days). Start-up checks only the pinned checkpoint and the
 * tail (docs/audit.md), so an edit of old history is found by the full verification alone: an
 * appliance that has not run it for longer than the period says so on every unlock.
 */
import { windowMs } from '../policy/velocity.js';
import type { ColdsignDb } from './database.js';
import { getSetting } from './settings.js';

export const DEFAULT_FULL_VERIFY_EVERY = '30d';
/** Time of the last successful full verification, ISO 8601. */
export const FULL_VERIFY_SETTING = 'audit.lastFullVerify';
/** Outcome of the last full verification, successful or not (JSON of LastFullVerification). */
export const FULL_VERIFY_RESULT_SETTING = 'audit.lastFullVerifyResult';

export interface LastFullVerification {
  time: string;
  ok: boolean;
  entries: number;
  /** The first bad entry, when it failed. */
  firstBad?: { seq: number; reason: string };
}

export interface FullVerificationStatus {
  /** The period in force ("30d", or the policy's audit.fullVerifyEvery). */
  every: string;
  /** When the whole log last verified, if ever. */
  lastOk?: string;
  /** The last full verification's outcome, if any was recorded. */
  last?: LastFullVerification;
  /** True when the last successful full verification (or, if none, the log's first entry) is older than the period. */
  overdue: boolean;
  /** One sentence for the operator when overdue. */
  warning?: string;
}

/** The policy's period, read from the policy in force (its row is verified state); the default otherwise. */
function periodOf(db: ColdsignDb): string {
  const row = db.sqlite
    .prepare('SELECT document FROM policies ORDER BY version DESC, seq DESC LIMIT 1')
    .get() as { document: string } | undefined;
  try {
    const every = (JSON.parse(row?.document ?? 'null') as { audit?: { fullVerifyEvery?: unknown } } | null)
      ?.audit?.fullVerifyEvery;
    if (typeof every === 'string') {
      windowMs(every);
      return every;
    }
  } catch {}
  return DEFAULT_FULL_VERIFY_EVERY;
}

function readLast(db: ColdsignDb): LastFullVerification | undefined {
  const text = getSetting(db, FULL_VERIFY_RESULT_SETTING);
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as LastFullVerification;
    if (typeof value.time === 'string' && typeof value.ok === 'boolean') return value;
  } catch {}
  return undefined;
}

/** Where the appliance stands against the policy's full-verification period at `now`. */
export function fullVerificationStatus(db: ColdsignDb, now: Date): FullVerificationStatus {
  const every = periodOf(db);
  const lastOk = getSetting(db, FULL_VERIFY_SETTING);
  const last = readLast(db);
  // Never verified: the period runs from the log's first entry (a new appliance is not overdue).
  const first = db.sqlite.prepare('SELECT time FROM audit_log ORDER BY seq LIMIT 1').get() as
    { time: string } | undefined;
  const since = Date.parse(lastOk ?? first?.time ?? now.toISOString());
  const overdue = Number.isNaN(since) || now.getTime() - since > windowMs(every);
  const status: FullVerificationStatus = {
    every,
    ...(lastOk ? { lastOk } : {}),
    ...(last ? { last } : {}),
    overdue,
  };
  if (!overdue) return status;
  const failed =
    last && !last.ok
      ? ` The last full verification, on ${last.time}, FAILED at entry ${last.firstBad?.seq ?? '?'}.`
      : '';
  status.warning = !lastOk
    ? `The whole audit log has never been verified (the policy asks for it every ${every}): run \`coldsign audit verify\`.${failed}`
    : `The whole audit log was last verified on ${lastOk} (the policy asks for it every ${every}): run \`coldsign audit verify\`.${failed}`;
  return status;
}
