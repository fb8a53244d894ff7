/** Bitcoin amounts (pure): satoshis as bigint, shown as decimal BTC strings. */

export const SATS_PER_BTC = 100_000_000n;
/** Consensus MAX_MONEY: 21 million BTC in satoshis. */
export const MAX_MONEY = 21_000_000n * SATS_PER_BTC;

/** 150000 → "0.0015"; 100000000 → "1" (no exponent, no trailing zeros). */
export function formatBtc(sats: bigint): string {
  const negative = sats < 0n;
  const abs = negative ? -sats : sats;
  const whole = abs / SATS_PER_BTC;
  const frac = (abs % SATS_PER_BTC).toString().padStart(8, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}
