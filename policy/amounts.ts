/**
 * Exact decimal amounts (pure): decimal strings in a main unit ↔ integer base units (bigint).
 * Never floats: 0.1 BTC is 10_000_000n sat, compared as integers.
 */
import type { AssetRef, BtcPolicyFacts, Movement, SigningSummary } from '../core/summary.js';

export const DECIMAL_RE = /^(0|[1-9]\d*)(\.\d+)?$/;

/** Native decimals: BTC has 8 (satoshi), ETH has 18 (wei). */
export function nativeDecimals(chain: 'btc' | 'evm'): number {
  return chain === 'btc' ? 8 : 18;
}

export function nativeSymbol(chain: 'btc' | 'evm'): 'BTC' | 'ETH' {
  return chain === 'btc' ? 'BTC' : 'ETH';
}

/** Number of decimal places written in `text` ("0.50" → 2). */
export function decimalPlaces(text: string): number {
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

/** "0.5" with 8 decimals → 50000000n. Throws RangeError when `text` has more decimals than the unit. */
export function toBaseUnits(text: string, decimals: number): bigint {
  if (!DECIMAL_RE.test(text)) throw new RangeError(`"${text}" is not a decimal amount`);
  const [whole = '0', fraction = ''] = text.split('.');
  if (fraction.length > decimals) throw new RangeError(`"${text}" has more than ${decimals} decimals`);
  return BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, '0') || '0');
}

/** 50000000n with 8 decimals → "0.5". */
export function formatUnits(raw: bigint, decimals: number): string {
  const negative = raw < 0n;
  const digits = (negative ? -raw : raw).toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = decimals > 0 ? digits.slice(digits.length - decimals).replace(/0+$/, '') : '';
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** Canonical key of an asset for totals and velocity: "native" or "token:<lower-case contract>". */
export function assetKey(asset: AssetRef): string {
  return asset.type === 'native' ? 'native' : `token:${asset.contract.toLowerCase()}`;
}

/** Parses a movement's base-unit amount; malformed amounts are treated as refusals by the caller. */
export function movementRaw(movement: Movement): bigint | undefined {
  return /^\d+$/.test(movement.raw) ? BigInt(movement.raw) : undefined;
}

/** Movements that send value away: everything except our own change (BIP-174 change detection). */
export function outgoing(summary: SigningSummary): Movement[] {
  return summary.movements.filter((movement) => !movement.change);
}

/** Channels whose value is spent by the request itself (capped by maxAmount / tokens[].maxAmount). */
const TRANSFER_CHANNELS = new Set(['output', 'native', 'token-transfer', 'call', 'safe-call']);
/** Channels whose value is not counted in totals: the fee has its own caps; a delegation moves no amount. */
const UNCOUNTED_CHANNELS = new Set(['fee', 'change', 'delegation']);

/** True for a movement the per-request amount caps count (legacy movements without a channel included). */
export function isTransfer(movement: Movement): boolean {
  return movement.channel === undefined || TRANSFER_CHANNELS.has(movement.channel);
}

/** Bitcoin: the fee leaves our keys like any output not ours, so maxAmount and velocity count it. */
function countedLeaving(summary: SigningSummary, movement: Movement): boolean {
  return summary.chain === 'btc' && movement.channel === 'fee';
}

/**
 * EVM: a transaction may take up to gasLimit × maxFeePerGas (EIP-1559; gasPrice before it) from our account,
 * paid to the block's proposer: counted as native value leaving, as a Bitcoin fee is. Undefined when unreadable.
 */
function evmMaxFee(summary: SigningSummary): bigint | undefined {
  if (summary.chain !== 'evm' || summary.kind !== 'transaction' || !summary.fee) return 0n;
  return /^\d+$/.test(summary.fee.raw) ? BigInt(summary.fee.raw) : undefined;
}

function withEvmFee(totals: Map<string, bigint>, fee: bigint): Map<string, bigint> {
  if (fee > 0n) totals.set('native', (totals.get('native') ?? 0n) + fee);
  return totals;
}

function sum(movements: Movement[]): Map<string, bigint> | undefined {
  const totals = new Map<string, bigint>();
  for (const movement of movements) {
    const raw = movementRaw(movement);
    if (raw === undefined) return undefined;
    const key = assetKey(movement.asset);
    totals.set(key, (totals.get(key) ?? 0n) + raw);
  }
  return totals;
}

/**
 * Total leaving per asset key, for velocity: every movement that is not our own change or a delegation —
 * transfers, values carried by calls, approvals (what a spender may pull), Safe refunds and the fee.
 * Returns undefined when an amount is malformed, so that a request with an unreadable amount is never allowed.
 */
export function requestTotals(summary: SigningSummary): Map<string, bigint> | undefined {
  const totals = sum(
    outgoing(summary).filter(
      (m) => m.channel === undefined || !UNCOUNTED_CHANNELS.has(m.channel) || countedLeaving(summary, m),
    ),
  );
  const fee = evmMaxFee(summary);
  if (!totals || fee === undefined) return undefined;
  withEvmFee(totals, fee);
  // Bitcoin NONE/SINGLE: the value at risk is recorded as spent too, as the checks counted it.
  const facts = summary.chain === 'btc' ? summary.btc : undefined;
  if (facts && BigInt(facts.atRiskSats) > 0n) {
    const extra = btcCountedLeaving(facts) - btcLeaving(facts);
    totals.set('native', (totals.get('native') ?? 0n) + extra);
  }
  return totals;
}

/** Bitcoin: what leaves our keys outright, the outputs not ours and the fee. */
function btcLeaving(facts: BtcPolicyFacts): bigint {
  return BigInt(facts.sentSats) + BigInt(facts.feeSats);
}

/**
 * Bitcoin: the value counted as leaving. An input signed with SIGHASH_NONE or SINGLE commits to none (or only
 * one) of the outputs (BIP-143 / legacy sighash), so after signing anyone can redirect its whole value: what
 * leaves plus what is at risk, never more than our inputs hold and never less than what leaves.
 */
export function btcCountedLeaving(facts: BtcPolicyFacts): bigint {
  const leaving = btcLeaving(facts);
  const ourIn = BigInt(facts.ourInputSats);
  const atRisk = BigInt(facts.atRiskSats);
  const capped = leaving + atRisk < ourIn ? leaving + atRisk : ourIn;
  return capped > leaving ? capped : leaving;
}

/** Per-request amounts: the transfers and the fee (approvals, refunds and delegations have caps of their own). */
export function transferTotals(summary: SigningSummary): {
  totals: Map<string, bigint>;
  /** Asset keys with a movement whose amount has no bound (e.g. a Safe delegatecall's inner value). */
  unbounded: Set<string>;
} {
  const transfers = outgoing(summary).filter((m) => isTransfer(m) || countedLeaving(summary, m));
  const unbounded = new Set(transfers.filter((m) => m.unbounded).map((m) => assetKey(m.asset)));
  const fee = evmMaxFee(summary);
  if (fee === undefined) unbounded.add('native');
  return { totals: withEvmFee(sum(transfers) ?? new Map(), fee ?? 0n), unbounded };
}
