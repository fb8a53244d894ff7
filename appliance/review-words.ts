/**
 * Plain words the review uses (pure): names of known EVM chains, of request kinds and movement channels,
 * units for gas, and dates as "2026-12-30 12:00 UTC (in 30 days)".
 */
// viem's checksum and the ethers-shaped decimal formatter, not ethers itself: a Bitcoin review would otherwise load
// ethers for two helpers.
import { checksumAddress } from 'viem';
import { formatUnits } from '../chains/evm/units.js';
import type { MovementChannel, RequestKind } from '../core/summary.js';

/** EIP-155 chain ids of well-known networks (chainid.network registry), for the operator's eye only. */
const EVM_CHAIN_NAMES: Record<number, string> = {
  1: 'Ethereum mainnet',
  10: 'OP Mainnet',
  56: 'BNB Smart Chain',
  100: 'Gnosis',
  137: 'Polygon',
  324: 'zkSync Era',
  1337: 'local development chain',
  8453: 'Base',
  17000: 'Holesky testnet',
  31337: 'local development chain',
  42161: 'Arbitrum One',
  43114: 'Avalanche C-Chain',
  59144: 'Linea',
  11155111: 'Sepolia testnet',
};

/** "Ethereum mainnet (chain 1)", "EVM chain 99999", or "any EVM chain" for a message. */
export function evmNetworkName(chainId: number | undefined): string {
  if (chainId === undefined) return 'any EVM chain (the signature names no chain)';
  const name = EVM_CHAIN_NAMES[chainId];
  return name ? `${name} (chain ${chainId})` : `EVM chain ${chainId}`;
}

export const KIND_NAMES: Record<RequestKind, string> = {
  psbt: 'Bitcoin transaction (PSBT)',
  transaction: 'EVM transaction',
  message: 'message signature (EIP-191)',
  typed_data: 'typed data signature (EIP-712)',
};

export const CHANNEL_NAMES: Record<MovementChannel, string> = {
  output: 'payment',
  change: 'change (back to us)',
  fee: 'network fee',
  native: 'native value',
  'token-transfer': 'token transfer',
  approval: 'spending approval',
  'safe-call': 'Safe inner call',
  'safe-refund': 'Safe gas refund',
  delegation: 'EIP-7702 delegation',
  call: 'contract call',
};

/** The EIP-55 mixed-case form of an EVM address; anything else unchanged. */
export function displayAddress(address: string | null | undefined, chain: 'btc' | 'evm'): string | null {
  if (!address) return null;
  if (chain !== 'evm' || !/^0x[0-9a-fA-F]{40}$/.test(address)) return address;
  // EIP-55: the checksum of the lower-case hex (the pattern above is the whole validation).
  return checksumAddress(address.toLowerCase() as `0x${string}`);
}

export function gwei(wei: unknown): string {
  try {
    return `${formatUnits(BigInt(String(wei)), 9)} gwei`;
  } catch {
    return `${String(wei)} wei`;
  }
}

const DAY_MS = 86_400_000;

/** "2026-12-30 12:00 UTC (in 30 days)", "… (expired 2 days ago)"; null when there is no deadline. */
export function deadlineText(deadline: string | null | undefined, now: Date): string | null {
  if (!deadline) return null;
  const at = new Date(deadline);
  if (Number.isNaN(at.getTime())) return deadline;
  const when = `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const ms = at.getTime() - now.getTime();
  const days = Math.floor(Math.abs(ms) / DAY_MS);
  const hours = Math.floor(Math.abs(ms) / 3_600_000);
  const span = days >= 1 ? `${days} day${days === 1 ? '' : 's'}` : `${hours} hour${hours === 1 ? '' : 's'}`;
  return ms >= 0 ? `${when} (in ${span})` : `${when} (expired ${span} ago)`;
}

/** Decimal strings added exactly (amounts in one unit, e.g. "0.5" + "0.0025"). */
export function addDecimals(values: string[]): string {
  const scale = Math.max(0, ...values.map((v) => (v.includes('.') ? v.length - v.indexOf('.') - 1 : 0)));
  const sum = values.reduce((total, v) => {
    const [whole = '0', fraction = ''] = v.split('.');
    return total + BigInt(whole) * 10n ** BigInt(scale) + BigInt(fraction.padEnd(scale, '0') || '0');
  }, 0n);
  return formatUnits(sum, scale).replace(/\.0$/, '');
}
