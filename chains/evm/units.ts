/**
 * Amounts for display (pure): viem's integer-to-decimal formatting, in the form the summaries have always shown
 * (ethers v6: at least one fractional digit when there are decimals, "1.0" not "1"). viem's is a string operation; ethers' goes through
 * FixedNumber and was a measurable part of each summary.
 */
import { formatUnits as viemFormatUnits } from 'viem';

/** `raw` base units with `decimals` decimals, e.g. 1500000n, 6 → "1.5"; 1000000n, 6 → "1.0"; 5n, 0 → "5". */
export function formatUnits(raw: bigint, decimals: number): string {
  const text = viemFormatUnits(raw, decimals);
  return decimals === 0 || text.includes('.') ? text : `${text}.0`;
}

/** Wei as ether (18 decimals). */
export function formatEther(wei: bigint): string {
  return formatUnits(wei, 18);
}
