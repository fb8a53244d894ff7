/**
 * The checks of one policy rule against one request (pure). Each returns the reasons it fails, in
 * operator words; an empty list means the rule allows that aspect of the request.
 */
import { EVM_DEFAULT_MAX_GWEI_PER_GAS, type SigningSummary } from '../core/summary.js';
import { nativeDecimals, nativeSymbol, toBaseUnits } from './amounts.js';
import { btcChecks } from './btc-checks.js';
import { movementChecks } from './movement-checks.js';
import { amountText, tokenOf } from './rule-terms.js';
import type { PolicyKind, PolicyRule } from './schema.js';
import { usageInWindow, type VelocityHistory } from './velocity.js';

export interface RuleContext {
  summary: SigningSummary;
  kind: PolicyKind;
  /** Base units leaving per asset key for velocity (change and delegations excluded, the fee included). */
  totals: Map<string, bigint>;
  /** Base units the request transfers per asset key, its fee included (approvals and refunds excluded), for maxAmount. */
  transfers: Map<string, bigint>;
  /** Asset keys of transfers without a bound (always over any cap). */
  unboundedTransfers: Set<string>;
  history: VelocityHistory;
  now: Date;
}

export type Check = (rule: PolicyRule, ctx: RuleContext) => string[];
export { normalizeAddress } from './rule-terms.js';

const CHAIN_NAMES: Record<string, string> = { btc: 'a Bitcoin', evm: 'an EVM' };
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

function symbolOf(rule: PolicyRule, key: string, chain: 'btc' | 'evm'): { symbol: string; decimals: number } {
  if (key === 'native') return { symbol: nativeSymbol(chain), decimals: nativeDecimals(chain) };
  const token = tokenOf(rule, key.slice('token:'.length));
  return { symbol: token?.symbol ?? key.slice('token:'.length), decimals: token?.decimals ?? 0 };
}

const scope: Check = (rule, { summary, kind }) => {
  const reasons: string[] = [];
  if (rule.chain === 'btc' && summary.network !== rule.network) {
    reasons.push(
      `the request is for Bitcoin ${summary.network ?? 'of unknown network'}; rule ${rule.id} allows ${rule.network} only`,
    );
  }
  // EIP-191 messages carry no chain id: a rule's chainIds restrict only requests that have one.
  if (rule.chain === 'evm' && kind !== 'message' && rule.chainIds !== 'any') {
    if (!rule.chainIds) reasons.push(`rule ${rule.id} names no chain ids, so it allows messages only`);
    else if (summary.chainId === undefined || !rule.chainIds.includes(summary.chainId))
      reasons.push(
        `chain id ${summary.chainId ?? 'unknown'} is not among the chain ids ${rule.chainIds.join(', ')} of rule ${rule.id}`,
      );
  }
  const kinds = rule.kinds ?? ['transfer', 'token_transfer'];
  if (!kinds.includes(kind))
    reasons.push(`rule ${rule.id} does not allow requests of kind ${kind.replace('_', ' ')}`);
  if (summary.signingKeys.length === 0) reasons.push('the request names no signing key');
  for (const key of summary.signingKeys) {
    if (rule.keys && !rule.keys.includes(key))
      reasons.push(`key ${key} is not one of the keys of rule ${rule.id}`);
  }
  return reasons;
};

const hours: Check = (rule, { now }) => {
  if (!rule.hours) return [];
  const minutes = now.getUTCHours() * 60 + now.getUTCMinutes();
  const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
  const from = toMinutes(rule.hours.from);
  const to = toMinutes(rule.hours.to);
  const inside = from < to ? minutes >= from && minutes < to : minutes >= from || minutes < to;
  const day = DAY_NAMES[now.getUTCDay()] as (typeof DAY_NAMES)[number];
  const reasons: string[] = [];
  if (!inside)
    reasons.push(`rule ${rule.id} allows signing only between ${rule.hours.from} and ${rule.hours.to} UTC`);
  if (rule.hours.days && !rule.hours.days.includes(day)) {
    reasons.push(
      `rule ${rule.id} allows signing only on ${rule.hours.days.join(', ')} (today is ${day}, UTC)`,
    );
  }
  return reasons;
};

/** maxAmount and tokens[].maxAmount cap what one request transfers, all movements of an asset together. */
const amounts: Check = (rule, { summary, transfers: totals, unboundedTransfers }) => {
  const reasons: string[] = [];
  const native = totals.get('native') ?? 0n;
  for (const key of unboundedTransfers) {
    const capped = key === 'native' ? rule.maxAmount : tokenOf(rule, key.slice('token:'.length))?.maxAmount;
    if (capped !== undefined)
      reasons.push(
        `an amount of ${key === 'native' ? nativeSymbol(summary.chain) : key.slice('token:'.length)} has no bound, and rule ${rule.id} caps it`,
      );
  }
  const decimals = nativeDecimals(summary.chain);
  const symbol = nativeSymbol(summary.chain);
  if (rule.maxAmount !== undefined) {
    const limit = toBaseUnits(rule.maxAmount, decimals);
    if (native > limit) {
      reasons.push(
        `${amountText(native, decimals, symbol)} exceeds the ${rule.maxAmount} ${symbol} limit of rule ${rule.id}`,
      );
    }
  }
  for (const [key, total] of totals) {
    if (key === 'native') continue;
    const token = tokenOf(rule, key.slice('token:'.length));
    if (token?.maxAmount === undefined) continue;
    const limit = toBaseUnits(token.maxAmount, token.decimals);
    if (total > limit) {
      reasons.push(
        `${amountText(total, token.decimals, token.symbol)} exceeds the ${token.maxAmount} ${token.symbol} limit of rule ${rule.id}`,
      );
    }
  }
  return reasons;
};

/** Without a fee cap of its own, an EVM rule refuses a price per gas above the default (EIP-1559 maxFeePerGas, or gasPrice). */
function evmDefaultFeeLimit(rule: PolicyRule, summary: SigningSummary): string[] {
  if (summary.chain !== 'evm' || summary.kind !== 'transaction') return [];
  const perGas = summary.details.maxFeePerGas ?? summary.details.gasPrice;
  if (typeof perGas !== 'string' || !/^\d+$/.test(perGas))
    return ['the price per gas of the request is unknown'];
  const limit = BigInt(EVM_DEFAULT_MAX_GWEI_PER_GAS) * 1_000_000_000n;
  if (BigInt(perGas) <= limit) return [];
  return [
    `the price of ${amountText(BigInt(perGas), 9, 'gwei')} per gas is above ${EVM_DEFAULT_MAX_GWEI_PER_GAS} gwei, the default limit of a rule without a fee cap (rule ${rule.id})`,
  ];
}

const fees: Check = (rule, { summary, transfers: totals }) => {
  if (rule.maxFee === undefined && rule.maxFeeRate === undefined && rule.maxFeePercent === undefined)
    return evmDefaultFeeLimit(rule, summary);
  const { fee } = summary;
  const symbol = nativeSymbol(summary.chain);
  const decimals = nativeDecimals(summary.chain);
  if (!fee)
    return summary.kind === 'message' || summary.kind === 'typed_data'
      ? []
      : [`the request states no fee, and rule ${rule.id} caps fees`];
  const raw = /^\d+$/.test(fee.raw) ? BigInt(fee.raw) : undefined;
  if (raw === undefined) return [`the fee "${fee.raw}" is not a whole number of base units`];
  const reasons: string[] = [];
  if (rule.maxFee !== undefined && raw > toBaseUnits(rule.maxFee, decimals)) {
    reasons.push(
      `the fee of ${amountText(raw, decimals, symbol)} exceeds the ${rule.maxFee} ${symbol} fee cap of rule ${rule.id}`,
    );
  }
  if (rule.maxFeeRate !== undefined) {
    if (fee.rate === undefined || !Number.isFinite(fee.rate))
      reasons.push(`the fee rate is unknown, and rule ${rule.id} caps it`);
    else if (fee.rate > rule.maxFeeRate) {
      reasons.push(
        `the fee rate of ${fee.rate} sat/vB exceeds the ${rule.maxFeeRate} sat/vB cap of rule ${rule.id}`,
      );
    }
  }
  if (rule.maxFeePercent !== undefined) {
    // The share is of what is sent: an EVM transfer total includes its fee (policy/amounts.ts), taken out here.
    const sent = (totals.get('native') ?? 0n) - (summary.chain === 'evm' ? raw : 0n);
    // fee / sent ≤ percent / 100, as integers: fee × 1 000 000 ≤ percent × 10 000 × sent.
    const percentScaled = BigInt(Math.round(rule.maxFeePercent * 10_000));
    if (sent === 0n)
      reasons.push(
        `rule ${rule.id} caps the fee as a share of the amount, but the request sends no ${symbol}`,
      );
    else if (raw * 1_000_000n > percentScaled * sent) {
      reasons.push(
        `the fee of ${amountText(raw, decimals, symbol)} is more than ${rule.maxFeePercent}% of the ${amountText(sent, decimals, symbol)} sent (rule ${rule.id})`,
      );
    }
  }
  return reasons;
};

const calls: Check = (rule, { summary }) => {
  const reasons: string[] = [];
  if (summary.blind && !rule.allowBlind) {
    reasons.push(
      summary.kind === 'message'
        ? `the message is not printable text or is exactly 32 bytes (it may stand for a hash), and rule ${rule.id} does not allow blind signing`
        : `the request's data is not understood (blind signing), and rule ${rule.id} does not allow blind signing`,
    );
  }
  if (summary.call?.delegatecall && !rule.allowDelegatecall)
    reasons.push(`the call uses delegatecall, which rule ${rule.id} does not allow`);
  // Fail closed on a summary whose transaction calls code that no `call` movement lists.
  const called = summary.call?.contract;
  if (
    summary.chain === 'evm' &&
    summary.kind === 'transaction' &&
    called &&
    !summary.movements.some((m) => m.channel === 'call' && m.to?.toLowerCase() === called.toLowerCase())
  )
    reasons.push(`the call to ${called} is not among the request's movements`);
  return reasons;
};

/** Messages (EIP-191 on EVM; BIP-322 and the legacy signed message on Bitcoin): at most maxMessageBytes (default 1024). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024;
const messages: Check = (rule, { summary, kind }) => {
  if (kind !== 'message') return [];
  const hex = summary.message?.hex;
  if (hex === undefined) return ['the message of the request is unknown'];
  const size = hex.replace(/^0x/, '').length / 2;
  const cap = rule.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  return size > cap ? [`the message has ${size} bytes; rule ${rule.id} allows at most ${cap}`] : [];
};

const typedData: Check = (rule, { summary, kind }) => {
  if (kind !== 'typed_data') return [];
  const domain = summary.typedData?.domain;
  if (!domain) return ['the EIP-712 domain of the request is unknown'];
  const matches = (rule.typedDataDomains ?? []).some((allowed) =>
    Object.entries(allowed).every(([field, value]) => {
      const actual = domain[field];
      if (actual === undefined) return false;
      return field === 'verifyingContract' || field === 'salt'
        ? String(actual).toLowerCase() === String(value).toLowerCase()
        : String(actual) === String(value);
    }),
  );
  if (matches) return [];
  const name = domain.name ? `"${domain.name}"` : 'of the request';
  return [`the EIP-712 domain ${name} is not in the domain allowlist of rule ${rule.id}`];
};

const velocity: Check = (rule, { summary, totals, history, now }) => {
  if (!rule.velocity) return [];
  const { window } = rule.velocity;
  const used = usageInWindow(history, rule.id, window, now);
  const reasons: string[] = [];
  if (rule.velocity.maxCount !== undefined && used.count + 1 > rule.velocity.maxCount) {
    reasons.push(
      `rule ${rule.id} allows ${rule.velocity.maxCount} signed requests per ${window}; ${used.count} were already signed`,
    );
  }
  const limits: Array<[string, string | undefined]> = [['native', rule.velocity.maxAmount]];
  for (const token of rule.tokens ?? [])
    limits.push([`token:${token.contract.toLowerCase()}`, token.velocityMaxAmount]);
  for (const [key, max] of limits) {
    if (max === undefined) continue;
    const { symbol, decimals } = symbolOf(rule, key, summary.chain);
    const spent = used.amounts.get(key) ?? 0n;
    const total = spent + (totals.get(key) ?? 0n);
    if (total > toBaseUnits(max, decimals)) {
      reasons.push(
        `${amountText(total, decimals, symbol)} within ${window} (${amountText(spent, decimals, symbol)} already signed) exceeds the ${max} ${symbol} velocity limit of rule ${rule.id}`,
      );
    }
  }
  return reasons;
};

/** All checks in the order their reasons are shown. */
export const RULE_CHECKS: readonly Check[] = [
  scope,
  hours,
  calls,
  typedData,
  messages,
  movementChecks,
  amounts,
  fees,
  velocity,
  btcChecks,
];

export function chainMismatch(rule: PolicyRule, summary: SigningSummary): string | undefined {
  if (rule.chain === summary.chain) return undefined;
  return `rule ${rule.id} is for ${rule.chain === 'btc' ? 'Bitcoin' : 'EVM chains'}; this is ${CHAIN_NAMES[summary.chain]} request`;
}
