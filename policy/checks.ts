/**
 * The checks of one policy rule against one request (pure). Each returns the reasons it fails, in
 * operator words; an empty list means the rule allows that aspect of the request.
 */
import type { SigningSummary } from '../core/summary.js';
import { formatUnits, movementRaw, nativeDecimals, nativeSymbol, outgoing, toBaseUnits } from './amounts.js';
import { btcChecks } from './btc-checks.js';
import type { PolicyKind, PolicyRule } from './schema.js';
import { usageInWindow, type VelocityHistory } from './velocity.js';

export interface RuleContext {
  summary: SigningSummary;
  kind: PolicyKind;
  /** Base units leaving per asset key (change excluded). */
  totals: Map<string, bigint>;
  history: VelocityHistory;
  now: Date;
}

type Check = (rule: PolicyRule, ctx: RuleContext) => string[];

const CHAIN_NAMES: Record<string, string> = { btc: 'a Bitcoin', evm: 'an EVM' };
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/** Addresses compared as the chain defines equality: EVM hex and bech32 (BIP-173) case-insensitively. */
export function normalizeAddress(address: string): string {
  if (/^0x[0-9a-fA-F]{40}$/.test(address) || /^(bc|tb|bcrt)1/i.test(address)) return address.toLowerCase();
  return address;
}

function amountText(raw: bigint, decimals: number, symbol: string): string {
  return `${formatUnits(raw, decimals)} ${symbol}`;
}

function tokenOf(rule: PolicyRule, contract: string) {
  return rule.tokens?.find((t) => t.contract.toLowerCase() === contract.toLowerCase());
}

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
  if (rule.chain === 'evm' && (summary.chainId === undefined || !rule.chainIds?.includes(summary.chainId))) {
    reasons.push(
      `chain id ${summary.chainId ?? 'unknown'} is not among the chain ids ${rule.chainIds?.join(', ')} of rule ${rule.id}`,
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

function destinationAllowed(rule: PolicyRule, address: string): boolean {
  if (rule.anyDestination) return true;
  const wanted = normalizeAddress(address);
  return (rule.destinations ?? []).some((d) => normalizeAddress(d.address) === wanted);
}

const destinations: Check = (rule, { summary }) => {
  const reasons: string[] = [];
  const calledContract = summary.call?.contract.toLowerCase();
  for (const movement of outgoing(summary)) {
    // The fee goes to miners, not to a destination: the amount and fee checks cap it.
    if (movement.channel === 'fee') continue;
    const raw = movementRaw(movement);
    if (raw === undefined) {
      reasons.push(`an amount of the request is not a whole number of base units ("${movement.raw}")`);
      continue;
    }
    if (raw === 0n && movement.asset.type === 'native') continue;
    if (movement.to === null) {
      reasons.push(
        `an output without an address (OP_RETURN or an unknown script) carries ${movement.raw} base units`,
      );
      continue;
    }
    // Native value sent with a call goes to the called contract, which the contract allowlist covers.
    if (movement.asset.type === 'native' && calledContract === movement.to.toLowerCase() && rule.contracts)
      continue;
    if (!destinationAllowed(rule, movement.to)) {
      reasons.push(`destination ${movement.to} is not in the allowlist of rule ${rule.id}`);
    }
    if (movement.asset.type === 'token') {
      const token = tokenOf(rule, movement.asset.contract);
      if (!token)
        reasons.push(
          `token ${movement.asset.symbol ?? movement.asset.contract} is not allowed by rule ${rule.id}`,
        );
      else if (movement.asset.decimals !== undefined && movement.asset.decimals !== token.decimals) {
        reasons.push(
          `token ${token.symbol} has ${movement.asset.decimals} decimals in the request but ${token.decimals} in rule ${rule.id}`,
        );
      }
    }
  }
  return reasons;
};

const amounts: Check = (rule, { summary, totals }) => {
  const reasons: string[] = [];
  const native = totals.get('native') ?? 0n;
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

const fees: Check = (rule, { summary, totals }) => {
  if (rule.maxFee === undefined && rule.maxFeeRate === undefined && rule.maxFeePercent === undefined)
    return [];
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
    const sent = totals.get('native') ?? 0n;
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

const calls: Check = (rule, { summary, kind }) => {
  const reasons: string[] = [];
  if (summary.blind && !rule.allowBlind) {
    reasons.push(
      `the request's data is not understood (blind signing), and rule ${rule.id} does not allow blind signing`,
    );
  }
  const call = summary.call;
  if (kind === 'contract_call') {
    if (!call) {
      if (kind === 'contract_call') reasons.push('the called contract is unknown');
    } else {
      const listed = rule.contracts?.find((c) => c.address.toLowerCase() === call.contract.toLowerCase());
      if (!listed)
        reasons.push(`contract ${call.contract} is not in the contract allowlist of rule ${rule.id}`);
      else if (!listed.selectors.some((s) => s.toLowerCase() === call.selector.toLowerCase())) {
        reasons.push(
          `function ${call.name ?? call.selector} of ${listed.label ?? call.contract} is not allowed by rule ${rule.id}`,
        );
      }
    }
  }
  if (call?.delegatecall && !rule.allowDelegatecall)
    reasons.push(`the call uses delegatecall, which rule ${rule.id} does not allow`);
  if (call?.spendingApproval) {
    if (call.unlimited && !rule.allowUnlimitedApprovals) {
      reasons.push(`the request grants an unlimited spending approval, which rule ${rule.id} does not allow`);
    }
    const spender = call.args.spender ?? call.args.operator;
    if (spender === undefined) reasons.push('the spender of the approval is unknown');
    else if (!destinationAllowed(rule, spender))
      reasons.push(`spender ${spender} is not in the destination allowlist of rule ${rule.id}`);
  }
  return reasons;
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
  destinations,
  amounts,
  fees,
  velocity,
  btcChecks,
];

export function chainMismatch(rule: PolicyRule, summary: SigningSummary): string | undefined {
  if (rule.chain === summary.chain) return undefined;
  return `rule ${rule.id} is for ${rule.chain === 'btc' ? 'Bitcoin' : 'EVM chains'}; this is ${CHAIN_NAMES[summary.chain]} request`;
}
