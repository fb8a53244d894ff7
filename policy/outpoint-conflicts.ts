/**
 * Signed outpoints (pure): once our key has signed an outpoint under a claimed amount and scriptPubKey, no
 * request may have it signed under another claim. BIP-143 commits a segwit v0 signature to the amount it spends,
 * and BIP-174 lets the coordinator state that amount (witness_utxo) without the previous transaction: two claims
 * give two signatures, and the one whose claim matches the real output is valid (the CVE-2020-14199 class).
 * The same claim again (a second attempt, a fee bump of the same coins) is a legitimate re-sign.
 */
import { formatUnits } from './amounts.js';

/** One (input, key) our key signs or signed: what the signature was asked to commit to. */
export interface OutpointClaim {
  /** The spent output, "txid:vout". */
  outpoint: string;
  /** Amount claimed for it, in satoshis (decimal). */
  sats: string;
  /** Its scriptPubKey, hex. */
  script: string;
  keyLabel: string;
  sighashType: number;
}

/** A claim already signed (from the ledger, or an earlier request of the same batch). */
export interface SignedOutpoint extends OutpointClaim {
  requestId: string;
}

export interface OutpointConflict {
  outpoint: string;
  before: OutpointClaim;
  now: OutpointClaim;
}

/** The rule name a conflict is shown under in a decision's reasons (not a rule of the policy). */
export const OUTPOINT_LEDGER_RULE = '(signed outpoints)';

function sameClaim(a: OutpointClaim, b: OutpointClaim): boolean {
  return a.sats === b.sats && a.script.toLowerCase() === b.script.toLowerCase();
}

/**
 * The first claim of this request that contradicts what was signed before (`signed`), or an earlier input of
 * the same request (two inputs spending one outpoint under different claims), or undefined.
 */
export function findOutpointConflict(
  claims: readonly OutpointClaim[],
  signed: readonly SignedOutpoint[],
): OutpointConflict | undefined {
  const first = new Map<string, OutpointClaim>();
  for (const row of signed) if (!first.has(row.outpoint)) first.set(row.outpoint, row);
  for (const claim of claims) {
    const before = first.get(claim.outpoint);
    if (!before) first.set(claim.outpoint, claim);
    else if (!sameClaim(before, claim)) return { outpoint: claim.outpoint, before, now: claim };
  }
  return undefined;
}

function amount(sats: string): string {
  return /^\d{1,16}$/.test(sats) ? `${formatUnits(BigInt(sats), 8)} BTC` : `"${sats}"`;
}

/** One sentence: the outpoint, what it was signed under before, and what is claimed now. */
export function outpointConflictMessage(conflict: OutpointConflict): string {
  const { outpoint, before, now } = conflict;
  const claimed =
    before.sats !== now.sats
      ? `for ${amount(before.sats)} and this request claims ${amount(now.sats)}`
      : `for ${amount(before.sats)} with scriptPubKey ${before.script} and this request claims scriptPubKey ${now.script}`;
  return `Outpoint ${outpoint} was signed ${claimed}; a second signature under another claim could be the valid one, so nothing is signed.`;
}
