/**
 * The outpoint ledger at decision time: the claims a PSBT asks our keys to sign, checked against the outpoints
 * already signed (store/outpoint-ledger.ts) and the earlier requests of the same batch. A conflict refuses the
 * request (PSBT_OUTPOINT_AMOUNT_CONFLICT) at review and at sign alike.
 */
import { toHex } from '../core/bytes.js';
import type { PreparedRequest } from '../core/pipeline/prepare.js';
import type { Decision } from '../core/summary.js';
import {
  findOutpointConflict,
  OUTPOINT_LEDGER_RULE,
  outpointConflictMessage,
  type OutpointClaim,
  type OutpointConflict,
  type SignedOutpoint,
} from '../policy/outpoint-conflicts.js';
import type { ColdsignDb } from '../store/database.js';
import { signedOutpoints, type LedgerIndex } from '../store/outpoint-ledger.js';

/** The ledger's index (verified against the pin, or as stored for an officer's preview) and the newest entry it covers. */
export interface LedgerHead {
  index: LedgerIndex;
  seq: number;
}

/** What each signature of a PSBT request would commit to (BIP-143: outpoint, amount, scriptCode); none otherwise. */
export function outpointClaimsOf(prepared: PreparedRequest): OutpointClaim[] {
  if (prepared.chain !== 'btc' || prepared.kind !== 'psbt') return [];
  return prepared.plan.requests.map((r) => ({
    outpoint: r.outpoint,
    sats: r.value.toString(),
    script: toHex(r.prevoutScript),
    keyLabel: r.label,
    sighashType: r.sighashType,
  }));
}

/** The first claim of `prepared` that contradicts the ledger or `pending` (earlier requests of the batch). */
export function outpointConflictOf(
  db: ColdsignDb,
  head: LedgerHead,
  prepared: PreparedRequest,
  pending: readonly SignedOutpoint[] = [],
): OutpointConflict | undefined {
  const claims = outpointClaimsOf(prepared);
  if (claims.length === 0) return undefined;
  const wanted = new Set(claims.map((c) => c.outpoint));
  const signed = signedOutpoints(db.sqlite, head.index, head.seq, wanted);
  return findOutpointConflict(claims, [...signed, ...pending]);
}

/** The decision with the conflict as its first refusing reason (the review shows it like any policy refusal). */
export function refusedForConflict(decision: Decision, conflict: OutpointConflict): Decision {
  return {
    allowed: false,
    rule: null,
    closestRule: decision.allowed ? decision.rule : (decision.closestRule ?? null),
    requiredApprovals: 0,
    reasons: [
      ...decision.reasons,
      { rule: OUTPOINT_LEDGER_RULE, ok: false, message: outpointConflictMessage(conflict) },
    ],
  };
}
