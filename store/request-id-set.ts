/**
 * Compact sets of request ids, for the full verification's range results (store/audit-verify-range.ts): a worker
 * transfers their buffers to the main thread without a copy, and the main thread's heap never holds the ids. A range
 * closes ~8,000 of them: sent as one JSON string they doubled the main thread's young generation; sent whole as exact
 * byte sets, the buffers waiting for collection still cost ~9 MB of peak RSS at 1M entries. Hence an exact set only
 * for the few ids a range closes without having started them, and 32-bit fingerprints (4 bytes an id) for the rest.
 *
 * An exact set writes each id as its JSON text between newlines: "\n" + JSON.stringify(id) + "\n", in UTF-8, neighbours
 * sharing one newline. JSON text never holds a raw control character (RFC 8259 section 7 escapes them) nor a lone
 * surrogate (ECMAScript 2019's well-formed JSON.stringify escapes it), so no record holds a 0x0A byte, and distinct
 * ids give distinct records: finding an id's record between two newlines is an exact membership test.
 */
const encoder = new TextEncoder();

/** The ids as one byte buffer of its own (never a pooled slice: it may be transferred). */
export function encodeRequestIdSet(ids: Iterable<string>): Uint8Array {
  const records: string[] = [];
  for (const id of ids) records.push(JSON.stringify(id));
  return records.length === 0 ? new Uint8Array(0) : encoder.encode(`\n${records.join('\n')}\n`);
}

/** True when `id` is one of the ids `set` was encoded from. */
export function requestIdSetHas(set: Uint8Array, id: string): boolean {
  return Buffer.from(set.buffer, set.byteOffset, set.byteLength).includes(`\n${JSON.stringify(id)}\n`);
}

/**
 * A 32-bit fingerprint of a request id: FNV-1a over its UTF-16 code units. Not collision-resistant (request ids
 * can be ground to collide): a fingerprint match only ever sends the caller to an exact check.
 */
export function requestIdFingerprint(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i += 1) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** The ids' fingerprints, sorted, in an array of its own (it may be transferred). */
export function fingerprintRequestIds(ids: Iterable<string>): Uint32Array {
  const fingerprints: number[] = [];
  for (const id of ids) fingerprints.push(requestIdFingerprint(id));
  return Uint32Array.from(fingerprints).sort();
}

/** True when one of the ids `fingerprints` was made of may be `id` (always true when it is). */
export function fingerprintsMayHold(fingerprints: Uint32Array, id: string): boolean {
  const wanted = requestIdFingerprint(id);
  let lo = 0;
  let hi = fingerprints.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (fingerprints[mid]! < wanted) lo = mid + 1;
    else hi = mid;
  }
  return lo < fingerprints.length && fingerprints[lo] === wanted;
}
