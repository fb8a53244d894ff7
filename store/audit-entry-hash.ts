/**
 * The hash of one audit entry (docs/audit.md): SHA-256 of the JSON array
 * ["coldsign-audit/1", seq, time, type, prevHash], a newline, and the RFC 8785 canonical payload.
 * Kept apart from store/audit-chain.ts so that the verification workers load no curve code.
 */
import { hash as oneShotHash } from 'node:crypto';
import { jsonScalar, jsonString } from './json-text.js';

const ENTRY_DOMAIN = 'coldsign-audit/1';
/** The array's opening and its first member (the same for every entry). */
const PREFIX_OPENING = `[${JSON.stringify(ENTRY_DOMAIN)},`;

/** Hash of an entry: SHA-256 of JSON ["coldsign-audit/1",seq,time,type,prev], "\n", canonical payload. */
export function entryHash(seq: number, time: string, type: string, payload: string, prev: string): string {
  const prefix = `${PREFIX_OPENING}${jsonScalar(seq)},${jsonString(time)},${jsonString(type)},${jsonString(prev)}]`;
  // One-shot hashing: about a third cheaper per entry than a Hash object on short inputs (audit verify).
  return oneShotHash('sha256', `${prefix}\n${payload}`, 'hex');
}

/** Entry types that start ("signing.started") or close ("signature", "signing.failed") a signing. */
export function followsSigning(type: string): boolean {
  return type === 'signing.started' || type === 'signature' || type === 'signing.failed';
}

/** The request ids a signing entry names: its `requestIds` array (strings only), else its single `requestId`. */
export function signingRequestIds(payload: unknown): string[] {
  const { requestIds, requestId } = (payload ?? {}) as { requestIds?: unknown; requestId?: unknown };
  if (Array.isArray(requestIds)) return requestIds.filter((id): id is string => typeof id === 'string');
  return typeof requestId === 'string' ? [requestId] : [];
}
