/** Display amounts: the viem-based formatter gives exactly ethers v6's strings (fast-check over 256-bit values). */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatUnits as ethersFormatUnits } from 'ethers';
import { formatEther, formatUnits } from '../../chains/evm/units.js';

describe('formatUnits', () => {
  it('matches ethers for any uint256 and 0–77 decimals (3,000 cases)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
        fc.integer({ min: 0, max: 77 }),
        (raw, d) => {
          expect(formatUnits(raw, d)).toBe(ethersFormatUnits(raw, d));
        },
      ),
      { numRuns: 3000, seed: 16 },
    );
  });
  it('edges: zero, whole amounts, one base unit', () => {
    expect(formatEther(0n)).toBe('0.0');
    expect(formatUnits(1_000_000n, 6)).toBe('1.0');
    expect(formatUnits(1n, 18)).toBe('0.000000000000000001');
    expect(formatUnits(5n, 0)).toBe('5');
  });
});
