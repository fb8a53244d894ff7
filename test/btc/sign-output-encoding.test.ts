/** The signed PSBT's base64 output (RFC 4648 §4): chunked btoa, checked against Node's own encoder. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodePsbtTransport, encodeBase64, encodePsbtTransport } from '../../chains/btc/encoding.js';

describe('base64 of a signed PSBT', () => {
  it('equal Node’s encoder at every padding length and across the 32 KiB chunk boundary', () => {
    const lengths = [0, 1, 2, 3, 4, 5, 0x7fff, 0x8000, 0x8001, 0x10000 + 2, 200_000];
    for (const length of lengths) {
      const bytes = new Uint8Array(randomBytes(length));
      expect(encodeBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    }
  });

  it('round-trip a 200 KB PSBT through the transport encoding', () => {
    const bytes = new Uint8Array(randomBytes(200_000));
    bytes.set([0x70, 0x73, 0x62, 0x74, 0xff]);
    const decoded = decodePsbtTransport(encodePsbtTransport(bytes, 'base64'));
    expect(decoded.encoding).toBe('base64');
    expect(decoded.bytes).toEqual(bytes);
  });
});
