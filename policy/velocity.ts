/**
 * Velocity limits over a rolling window (pure). The history comes from the signatures in the store:
 * one record per asset of each signed request, tagged with the rule that allowed it. A record
 * counts when it lies strictly inside the window: time > now − window (one made exactly `window`
 * ago no longer counts). A transaction signed again is counted once: records share a `txid` only when
 * their signatures are bound to one transaction (appliance/pipeline.ts resignKeyOf).
 */

export interface VelocityRecord {
  requestId: string;
  rule: string;
  /** "native" or "token:<lower-case contract>" (policy/amounts assetKey). */
  asset: string;
  /** Integer base units, decimal string. */
  raw: string;
  /** Milliseconds since the epoch of the signature. */
  timeMs: number;
  /** What a re-sign is counted once under: Bitcoin txid, EVM digest, or the request id. */
  txid?: string;
}

export type VelocityHistory = readonly VelocityRecord[];

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** "24h" → 86 400 000 ms. */
export function windowMs(window: string): number {
  const match = /^([1-9]\d{0,5})(s|m|h|d)$/.exec(window);
  if (!match) throw new RangeError(`"${window}" is not a window like "24h"`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

export interface WindowUsage {
  /** Distinct signed requests of the rule in the window. */
  count: number;
  /** Base units per asset key signed under the rule in the window. */
  amounts: Map<string, bigint>;
}

/** What rule `rule` has already signed inside the window ending at `now`. */
export function usageInWindow(
  history: VelocityHistory,
  rule: string,
  window: string,
  now: Date,
): WindowUsage {
  const since = now.getTime() - windowMs(window);
  const requests = new Set<string>();
  const counted = new Set<string>();
  const amounts = new Map<string, bigint>();
  for (const record of history) {
    if (record.rule !== rule || record.timeMs <= since) continue;
    const txid = record.txid ?? record.requestId;
    // A re-sign of the same transaction moves no more value: count each (transaction, asset) once.
    if (counted.has(`${txid}\n${record.asset}`)) continue;
    counted.add(`${txid}\n${record.asset}`);
    requests.add(txid);
    if (/^\d+$/.test(record.raw))
      amounts.set(record.asset, (amounts.get(record.asset) ?? 0n) + BigInt(record.raw));
  }
  return { count: requests.size, amounts };
}
