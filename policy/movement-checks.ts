/**
 * Every movement of a request checked against one rule (pure): where it goes, which token, how much, until
 * when (docs/policy.md "Movements"). A movement to one of our keys (`change`) is exempt from the destination
 * and amount checks only: the contract it calls, the token it moves and its kind are still checked.
 */
import type { Movement, SigningSummary } from '../core/summary.js';
import { formatUnits, movementRaw, toBaseUnits } from './amounts.js';
import type { Check } from './checks.js';
import { destinationAllowed, sameAddress, tokenOf } from './rule-terms.js';
import type { PolicyRule } from './schema.js';
import { windowMs } from './velocity.js';

/** Approvals and permits may stay usable at most this long unless a rule says otherwise. */
export const DEFAULT_APPROVAL_MAX_DEADLINE = '30d';

/** The ERC-20 functions the decoder reduces to movements (transfer, transferFrom, approve, increaseAllowance). */
const ERC20_SELECTORS = new Set(['0xa9059cbb', '0x23b872dd', '0x095ea7b3', '0x39509351']);

type MovementCheck = (rule: PolicyRule, m: Movement, summary: SigningSummary, now: Date) => string[];

function assetName(rule: PolicyRule, m: Movement): string {
  if (m.asset.type === 'native') return m.asset.symbol;
  return tokenOf(rule, m.asset.contract)?.symbol ?? m.asset.symbol ?? `token ${m.asset.contract}`;
}

function amountWords(rule: PolicyRule, m: Movement): string {
  if (m.unbounded) return `an unlimited amount of ${assetName(rule, m)}`;
  return m.amount !== null
    ? `${m.amount} ${assetName(rule, m)}`
    : `${m.raw} base units of ${assetName(rule, m)}`;
}

/** A token movement is allowed only on a token the rule lists, with the decimals the request states. */
function listedToken(rule: PolicyRule, m: Movement, what: string): string[] {
  if (m.asset.type !== 'token') return [];
  const token = tokenOf(rule, m.asset.contract);
  if (!token)
    return [`${what} of token ${m.asset.symbol ?? m.asset.contract}, which rule ${rule.id} does not list`];
  if (m.asset.decimals !== undefined && m.asset.decimals !== token.decimals)
    return [
      `token ${token.symbol} has ${m.asset.decimals} decimals in the request but ${token.decimals} in rule ${rule.id}`,
    ];
  return [];
}

/** Value paid to an address (native transfers, btc outputs, token transfers, value a Safe sends). */
const payment: MovementCheck = (rule, m) => {
  const reasons = m.asset.type === 'token' ? listedToken(rule, m, 'a transfer') : [];
  if (m.change) return reasons;
  if (m.to === null) {
    reasons.push(`an output without an address (OP_RETURN or an unknown script) carries ${m.raw} base units`);
  } else if (!destinationAllowed(rule, m.to)) {
    reasons.push(`destination ${m.to} is not in the allowlist of rule ${rule.id}`);
  }
  return reasons;
};

/** Whether the rule lets the request call `to` with `selector`: a listed contract, or a listed token's ERC-20 function. */
function callAllowed(rule: PolicyRule, to: string, selector: string, summary: SigningSummary): boolean {
  const listed = rule.contracts?.find((c) => sameAddress(c.address, to));
  if (listed) return listed.selectors.some((s) => s.toLowerCase() === selector.toLowerCase());
  if (!tokenOf(rule, to) || !ERC20_SELECTORS.has(selector.toLowerCase())) return false;
  // The ERC-20 call must have been reduced to its movement; otherwise what it does is not known.
  return summary.movements.some(
    (other) =>
      (other.channel === 'token-transfer' || other.channel === 'approval') &&
      other.asset.type === 'token' &&
      sameAddress(other.asset.contract, to),
  );
}

/** A call of code (`call`, or `safe-call` with calldata): the called address must be named by the rule. */
const call: MovementCheck = (rule, m, summary) => {
  if (m.channel === 'safe-call' && m.selector === undefined) return payment(rule, m, summary, new Date(0));
  const raw = movementRaw(m) ?? 0n;
  if (m.to === null)
    return raw > 0n ? [`the request sends ${amountWords(rule, m)} to a contract it creates`] : [];
  const reasons: string[] = [];
  const selector = m.selector ?? '0x';
  const listed = rule.contracts?.find((c) => sameAddress(c.address, m.to!));
  if (!callAllowed(rule, m.to, selector, summary)) {
    reasons.push(
      listed
        ? `function ${selector} of ${listed.label ?? m.to} is not allowed by rule ${rule.id}`
        : `contract ${m.to} is not in the contract allowlist of rule ${rule.id} (nor a listed token)`,
    );
  }
  // The value a call carries goes to the called address.
  if (raw > 0n && !m.change && !listed && !destinationAllowed(rule, m.to))
    reasons.push(`destination ${m.to} is not in the allowlist of rule ${rule.id}`);
  return reasons;
};

function deadlineReasons(rule: PolicyRule, m: Movement, now: Date): string[] {
  if (m.deadline === undefined) return [];
  const token = m.asset.type === 'token' ? tokenOf(rule, m.asset.contract) : undefined;
  const window = token?.approvalMaxDeadline ?? rule.approvalMaxDeadline ?? DEFAULT_APPROVAL_MAX_DEADLINE;
  if (m.deadline === null)
    return [`the approval to ${m.to} never expires; rule ${rule.id} allows at most ${window}`];
  const until = Date.parse(m.deadline);
  if (!Number.isFinite(until) || until > now.getTime() + windowMs(window))
    return [
      `the approval to ${m.to} lasts until ${m.deadline}, more than the ${window} rule ${rule.id} allows`,
    ];
  return [];
}

/** An approval or permit: a movement of its amount to its spender, on a listed token, capped and time-bound. */
const approval: MovementCheck = (rule, m, _summary, now) => {
  const reasons = listedToken(rule, m, 'an approval');
  const token = m.asset.type === 'token' ? tokenOf(rule, m.asset.contract) : undefined;
  if (m.asset.type !== 'token') reasons.push('an approval of the native asset is not understood');
  if (!m.change) {
    if (m.to === null) reasons.push('the spender of the approval is unknown');
    else if (!destinationAllowed(rule, m.to))
      reasons.push(`spender ${m.to} is not in the destination allowlist of rule ${rule.id}`);
    if (m.unbounded && !rule.allowUnlimitedApprovals)
      reasons.push(`the request grants an unlimited spending approval, which rule ${rule.id} does not allow`);
    const cap = token?.approvalMaxAmount ?? token?.maxAmount;
    const raw = movementRaw(m);
    if (token && cap !== undefined && raw !== undefined && raw > toBaseUnits(cap, token.decimals)) {
      reasons.push(
        `the approval of ${amountWords(rule, m)} to ${m.to} exceeds the ${cap} ${token.symbol} approval cap of rule ${rule.id}`,
      );
    }
  }
  return [...reasons, ...deadlineReasons(rule, m, now)];
};

/** A Safe refund in words: "a gas refund of up to X", or, with safeTxGas 0 and a gas price, no limit at all. */
function refundWords(rule: PolicyRule, m: Movement): string {
  return m.unbounded
    ? `a gas refund in ${assetName(rule, m)} with no upper limit (safeTxGas 0 with a gas price)`
    : `a gas refund of up to ${amountWords(rule, m)}`;
}

/** A Safe gas refund: refused unless the rule allows refunds to that receiver in that asset, up to a cap. */
const refund: MovementCheck = (rule, m) => {
  if (m.change) return [];
  const receiver = m.to ?? 'whoever relays the transaction (refundReceiver 0 = tx.origin)';
  const asset = m.asset.type === 'native' ? 'ETH' : m.asset.contract;
  const allowed = rule.safeRefunds?.find(
    (r) =>
      m.to !== null &&
      sameAddress(r.receiver, m.to) &&
      (r.asset === 'ETH' ? asset === 'ETH' : sameAddress(r.asset, asset)),
  );
  if (!allowed)
    return [`the Safe pays ${refundWords(rule, m)} to ${receiver}, which rule ${rule.id} does not allow`];
  const decimals = allowed.asset === 'ETH' ? 18 : tokenOf(rule, allowed.asset)?.decimals;
  const raw = movementRaw(m);
  if (
    decimals === undefined ||
    raw === undefined ||
    m.unbounded ||
    raw > toBaseUnits(allowed.maxAmount, decimals)
  )
    return [
      `the Safe pays ${refundWords(rule, m)} to ${allowed.label}, over the ${allowed.maxAmount} cap of rule ${rule.id}`,
    ];
  return [];
};

/** EIP-7702: delegating an account hands it over; refused unless the rule names the delegate and the chain. */
const delegation: MovementCheck = (rule, m) => {
  const allowed = rule.delegations?.find((d) => m.to !== null && sameAddress(d.contract, m.to));
  if (!allowed)
    return [
      `the request delegates account ${m.from ?? '(unknown)'} to ${m.to} (EIP-7702), which rule ${rule.id} does not allow`,
    ];
  const chainId = m.chainId ?? '';
  if (!allowed.chainIds.some((id) => String(id) === chainId))
    return [
      chainId === '0'
        ? `the EIP-7702 authorization to ${m.to} has chain id 0 (valid on every chain), which rule ${rule.id} does not list`
        : `the EIP-7702 authorization to ${m.to} is for chain id ${chainId}, not among the chain ids rule ${rule.id} allows for it`,
    ];
  return [];
};

const BY_CHANNEL: Record<string, MovementCheck> = {
  output: payment,
  native: payment,
  'token-transfer': payment,
  call,
  'safe-call': call,
  approval,
  'safe-refund': refund,
  delegation,
  change: () => [],
  fee: () => [],
};

/**
 * Approvals of one token add up within a request: Permit2's batch transfer honours every entry (each may be
 * the same token), and a spender holding several grants may use them all. Each is within the cap alone.
 */
function approvalsTogether(rule: PolicyRule, summary: SigningSummary): string[] {
  const byToken = new Map<string, { raw: bigint; count: number }>();
  for (const m of summary.movements) {
    const raw = movementRaw(m);
    if (m.channel !== 'approval' || m.change || m.unbounded || m.asset.type !== 'token' || raw === undefined)
      continue;
    const key = m.asset.contract.toLowerCase();
    const entry = byToken.get(key) ?? { raw: 0n, count: 0 };
    byToken.set(key, { raw: entry.raw + raw, count: entry.count + 1 });
  }
  const reasons: string[] = [];
  for (const [contract, { raw, count }] of byToken) {
    const token = tokenOf(rule, contract);
    const cap = token?.approvalMaxAmount ?? token?.maxAmount;
    if (count < 2 || !token || cap === undefined || raw <= toBaseUnits(cap, token.decimals)) continue;
    reasons.push(
      `the ${count} approvals of ${token.symbol} in the request add up to ${formatUnits(raw, token.decimals)} ${token.symbol}, more than the ${cap} ${token.symbol} approval cap of rule ${rule.id}`,
    );
  }
  return reasons;
}

/** Every movement of the request, each checked by the rules of its channel; an unknown channel is refused. */
export const movementChecks: Check = (rule, { summary, now }) => {
  const reasons: string[] = [];
  for (const m of summary.movements) {
    if (movementRaw(m) === undefined) {
      reasons.push(`an amount of the request is not a whole number of base units ("${m.raw}")`);
      continue;
    }
    const check = m.channel === undefined ? payment : BY_CHANNEL[m.channel];
    if (!check) {
      reasons.push(`the request moves value through "${m.channel}", which coldsign does not check`);
      continue;
    }
    for (const reason of check(rule, m, summary, now)) if (!reasons.includes(reason)) reasons.push(reason);
  }
  return [...reasons, ...approvalsTogether(rule, summary)];
};
