/**
 * Building the movements of an EVM request (pure): every way value can leave — native value, token
 * transfers, approvals and permits, Safe inner calls and refunds, EIP-7702 delegations, contract calls —
 * as one `Movement` each (ARCHITECTURE.md "Every way value leaves is a movement"; docs/evm-requests.md §5).
 */
import { formatEther } from './units.js';
import type { Movement, MovementChannel } from '../../core/summary.js';
import type { TokenBook } from './tokens.js';

/**
 * Approvals at or above 2^128 base units are unbounded: no token has such a supply (2^128 ≈ 3.4·10^38,
 * i.e. 3.4·10^20 whole tokens of 18 decimals), so such an amount is "everything", not a cap. This covers
 * 2^256 − 1 and its near neighbours (2^256 − 2, 2^255) and Permit2's 2^160 − 1 family.
 */
export const NEAR_UNLIMITED = 1n << 128n;

/** Deadlines from year 10000 on (253 402 300 800 s) never come: shown as `deadline: null` ("never"). */
const NEVER_SECONDS = 253_402_300_800n;

export interface MovementContext {
  tokens: TokenBook;
  /** Lower-case addresses of our keys (a movement to one of them is `change`). */
  ours: Set<string>;
}

export interface MovementSpec {
  channel: MovementChannel;
  from: string | null;
  to: string | null;
  raw: bigint;
  /** Token contract, or undefined for the native asset (ETH). */
  token?: string;
  unbounded?: boolean;
  /** Seconds since the epoch (uint256 from the request) or null for "no deadline stated" (approvals). */
  deadline?: bigint | null;
  selector?: string;
  chainId?: string;
}

/** A uint256 timestamp in seconds → ISO-8601; null when it is beyond year 9999 (never expires). */
export function deadlineIso(seconds: bigint): string | null {
  if (seconds >= NEVER_SECONDS) return null;
  return new Date(Number(seconds) * 1000).toISOString();
}

export function isNearUnlimited(raw: bigint): boolean {
  return raw >= NEAR_UNLIMITED;
}

export function movement(spec: MovementSpec, ctx: MovementContext): Movement {
  const m: Movement = {
    channel: spec.channel,
    from: spec.from,
    to: spec.to,
    raw: spec.raw.toString(),
    amount: spec.token === undefined ? formatEther(spec.raw) : ctx.tokens.amount(spec.token, spec.raw),
    asset: spec.token === undefined ? { type: 'native', symbol: 'ETH' } : ctx.tokens.asset(spec.token),
    change: spec.to !== null && ctx.ours.has(spec.to.toLowerCase()),
  };
  if (spec.unbounded) m.unbounded = true;
  if (spec.deadline !== undefined) m.deadline = spec.deadline === null ? null : deadlineIso(spec.deadline);
  if (spec.selector !== undefined) m.selector = spec.selector;
  if (spec.chainId !== undefined) m.chainId = spec.chainId;
  return m;
}
