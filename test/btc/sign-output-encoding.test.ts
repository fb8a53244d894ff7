/** The signed PSBT's base64 output (RFC 4648 §4): the standard's test vectors, views into larger buffers, round trips. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodePsbtTransport, encodeBase64, encodePsbtTransport } from '../../chains/btc/encoding.js';
import { utf8 } from '../../core/bytes.js';

// RFC 4648 §10 test vectors.
const RFC4648: [string, string][] = [
  ['', ''],
  ['f', 'Zg=='],
  ['fo', 'Zm8='],
  ['foo', 'Zm9v'],
  ['foob', 'Zm9vYg=='],
  ['fooba', 'Zm9vYmE='],
  ['foobar', 'Zm9vYmFy'],
];

describe('base64 of a signed PSBT', () => {
  it('gives RFC 4648’s test vectors', () => {
    for (const [text, base64] of RFC4648) expect(encodeBase64(utf8(text))).toBe(base64);
  });

  it('encodes only the viewed bytes of a subarray', () => {
    const whole = new Uint8Array(randomBytes(1000));
    const view = whole.subarray(7, 7 + 301);
    expect(encodeBase64(view)).toBe(encodeBase64(Uint8Array.from(view)));
    expect(encodeBase64(view)).not.toBe(encodeBase64(whole));
  });

  it('round-trip a 200 KB PSBT through the transport encoding into memory of its own', () => {
    const bytes = new Uint8Array(randomBytes(200_000));
    bytes.set([0x70, 0x73, 0x62, 0x74, 0xff]);
    const text = encodePsbtTransport(bytes, 'base64');
    const decoded = decodePsbtTransport(text);
    expect(decoded.encoding).toBe('base64');
    expect(decoded.bytes).toEqual(bytes);
    expect(Object.getPrototypeOf(decoded.bytes)).toBe(Uint8Array.prototype);
    expect(decoded.bytes.slice(0, 5)).not.toBe(decoded.bytes);
  });

  it('refuses base64 text that is not canonical before decoding', () => {
    const text = encodeBase64(Uint8Array.of(0x70, 0x73, 0x62, 0x74, 0xff, 1, 2));
    for (const bad of [text.slice(0, -1), `${text.slice(0, 4)}*${text.slice(5)}`]) {
      expect(() => decodePsbtTransport(utf8(bad))).toThrow(expect.objectContaining({ code: 'PSBT_INVALID' }));
    }
  });
});
