/**
 * The outpoint ledger: which Bitcoin outpoints our keys signed, under which claimed amount and scriptPubKey
 * (the `outpoints` state table, projected from "signature" entries by store/state.ts). A decision reads it whole,
 * every link checked against the verified head: a row deleted anywhere would otherwise let an outpoint be signed
 * again under another amount, and only a walk from the first row proves that none was.
 */
import type { OutpointClaim, SignedOutpoint } from '../policy/outpoint-conflicts.js';
import type { Sqlite } from './database.js';
import { readWholeTable } from './state.js';

/** The members of a "signature" entry's `outpoints` (one per input and key signed). */
export function outpointPayload(claims: readonly OutpointClaim[]): OutpointClaim[] {
  return claims.map((c) => ({
    outpoint: c.outpoint,
    sats: c.sats,
    script: c.script,
    keyLabel: c.keyLabel,
    sighashType: c.sighashType,
  }));
}

/**
 * The signed rows of the outpoints in `wanted`, oldest first, after checking the whole table against `head`
 * (AUDIT_TAMPERED on any edit, insertion or deletion). `uptoSeq`: the newest entry the head covers.
 */
export function signedOutpoints(
  sqlite: Sqlite,
  head: string,
  uptoSeq: number,
  wanted: ReadonlySet<string>,
): SignedOutpoint[] {
  const found: SignedOutpoint[] = [];
  readWholeTable(sqlite, 'outpoints', head, uptoSeq, (row) => {
    const outpoint = row.values.outpoint;
    if (typeof outpoint !== 'string' || !wanted.has(outpoint)) return;
    found.push({
      requestId: String(row.values.request_id ?? ''),
      outpoint,
      sats: String(row.values.sats ?? ''),
      script: String(row.values.script ?? ''),
      keyLabel: String(row.values.key_label ?? ''),
      sighashType: Number(row.values.sighash_type ?? 0),
    });
  });
  return found;
}
