/** Small terms the rule checks share (pure): address equality, allowlists, amounts in words. */
import { formatUnits } from './amounts.js';
import type { PolicyRule } from './schema.js';

/** Addresses compared as the chain defines equality: EVM hex and bech32 (BIP-173) case-insensitively. */
export function normalizeAddress(address: string): string {
  if (/^0x[0-9a-fA-F]{40}$/.test(address) || /^(bc|tb|bcrt)1/i.test(address)) return address.toLowerCase();
  return address;
}

export function sameAddress(a: string, b: string): boolean {
  return normalizeAddress(a) === normalizeAddress(b);
}

export function amountText(raw: bigint, decimals: number, symbol: string): string {
  return `${formatUnits(raw, decimals)} ${symbol}`;
}

export function tokenOf(rule: PolicyRule, contract: string) {
  return rule.tokens?.find((t) => sameAddress(t.contract, contract));
}

export function destinationAllowed(rule: PolicyRule, address: string): boolean {
  if (rule.anyDestination) return true;
  return (rule.destinations ?? []).some((d) => sameAddress(d.address, address));
}
