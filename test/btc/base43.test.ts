// Electrum's base43 PSBT text (its QR export): detected by content, bounded to one QR code's length.
import { describe, expect, it } from 'vitest';
import {
  decodePsbtTransport,
  encodePsbtTransport,
  looksLikePsbt,
  MAX_BASE43_CHARS,
  PSBT_MAGIC,
} from '../../chains/btc/encoding.js';

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const bytesOf = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('base43 PSBT transport', () => {
  const psbt = Uint8Array.of(...PSBT_MAGIC, 0x01, 0x00, 0x00);

  it('round-trips and is detected as a PSBT by content', () => {
    const encoded = text(encodePsbtTransport(psbt, 'base43'));
    expect(encoded).toMatch(/^[0-9A-Z$*+\-./:]+$/);
    expect(looksLikePsbt(bytesOf(encoded))).toBe('base43');
    const decoded = decodePsbtTransport(bytesOf(`${encoded}\n`));
    expect(decoded.encoding).toBe('base43');
    expect(Array.from(decoded.bytes)).toEqual(Array.from(psbt));
  });

  it('is not claimed when the text does not decode to the PSBT magic', () => {
    expect(looksLikePsbt(bytesOf('HELLO.WORLD'))).toBeNull();
  });

  it('leaves all-hex text to hex', () => {
    expect(looksLikePsbt(bytesOf('70736274FF0100'))).toBe('hex');
  });

  it('refuses text longer than one QR code before decoding it', () => {
    const long = bytesOf('Z'.repeat(MAX_BASE43_CHARS + 1));
    expect(looksLikePsbt(long)).toBe('base43');
    expect(() => decodePsbtTransport(long)).toThrow(expect.objectContaining({ code: 'INPUT_TOO_LARGE' }));
  });
});
