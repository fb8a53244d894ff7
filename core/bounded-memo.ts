/**
 * A memo of values derived from public data (parsed keys, addresses) whose memory is bounded: when it holds
 * `limit` entries it is emptied before the next one is kept. Callers use a handful of keys, so emptying
 * costs one re-derivation per key, and an unbounded stream of keys cannot grow it (pure).
 */
export class BoundedMemo<K, V> {
  readonly #entries = new Map<K, V>();

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('a memo holds at least one entry');
  }

  get(key: K): V | undefined {
    return this.#entries.get(key);
  }

  set(key: K, value: V): void {
    if (!this.#entries.has(key) && this.#entries.size >= this.limit) this.#entries.clear();
    this.#entries.set(key, value);
  }

  /** Number of entries kept. */
  get size(): number {
    return this.#entries.size;
  }
}
