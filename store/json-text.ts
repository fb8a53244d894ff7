/**
 * JSON text of the scalars the audit hashes cover, byte for byte what JSON.stringify gives (RFC 8259), with
 * short cuts for the common cases: the hot loops of `audit verify` write about two million of them per
 * million entries.
 */

/** JSON.stringify of a string, short-cut for printable ASCII without quote or backslash (same bytes). */
export function jsonString(text: string): string {
  return /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/.test(text) ? `"${text}"` : JSON.stringify(text);
}

/** JSON.stringify of a state-row value (null for undefined, as inside an array); other types take the long way. */
export function jsonScalar(value: unknown): string {
  if (typeof value === 'string') return jsonString(value);
  // Finite numbers print as String() does (-0 as "0" in both); NaN and ±Infinity as null.
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (value === null || value === undefined) return 'null';
  return JSON.stringify(value) ?? 'null';
}
