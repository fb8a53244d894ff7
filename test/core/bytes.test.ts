/** core/bytes.ts: the host's native hex codec and @noble's give the same text. */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { bytesToHex } from '@noble/curves/utils.js';
import { fromHex, toHex } from '../../core/bytes.js';

describe('toHex', () => {
  it('gives @noble/curves bytesToHex text for every byte value, lengths 0 to 300 and sub-array views', () => {
    const every = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(toHex(every)).toBe(bytesToHex(every));
    for (let n = 0; n <= 300; n += 7) {
      const bytes = new Uint8Array(randomBytes(n + 10));
      const view = bytes.subarray(3, 3 + n);
      expect(toHex(view)).toBe(bytesToHex(view));
      expect(fromHex(toHex(view))).toEqual(Uint8Array.from(view));
    }
  });
});
