/**
 * BBQr read and write, cross-checked against the `bbqr` package (the reference JavaScript codec) in both
 * directions for the H, 2 and Z encodings; hostile frames end in a stable code.
 */
import { joinQRs, splitQRs } from 'bbqr';
import { describe, expect, it } from 'vitest';
import { nodeRawDeflate } from '../../appliance/qr-reader.js';
import { readRequest } from '../../core/pipeline/intake.js';
import { joinBbqr, splitBbqr, type BbqrEncoding } from '../../qr/index.js';
import { utf8 } from '../../core/bytes.js';
import { codeOf } from './support/errors.js';
import { randomBytes } from './support/transfer.js';

/** A PSBT-like payload that compresses (repeated structure) and is long enough for several frames. */
function sample(seed: number): Uint8Array {
  const noise = randomBytes(600, seed);
  const bytes = new Uint8Array(3000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i % 7 === 0 ? noise[i % 600]! : 0x42;
  return bytes;
}

describe('BBQr against the bbqr package', () => {
  it.each(['H', '2', 'Z'] as const)(
    'reads what bbqr writes with encoding %s (shuffled, repeated)',
    (encoding) => {
      const bytes = sample(1);
      const { parts, encoding: used } = splitQRs(bytes, 'P', { encoding, minSplit: 3, maxVersion: 15 });
      expect(used).toBe(encoding);
      expect(parts.length).toBeGreaterThanOrEqual(3);
      const shuffled = [...parts].reverse().concat(parts[1]!);
      const read = joinBbqr(shuffled, nodeRawDeflate);
      expect(read.fileType).toBe('P');
      expect(read.encoding).toBe(encoding);
      expect(read.bytes).toEqual(bytes);
    },
  );

  it.each(['H', '2', 'Z'] as const)('writes what bbqr reads with encoding %s', (encoding: BbqrEncoding) => {
    const bytes = sample(2);
    const parts = splitBbqr(bytes, 'P', encoding, nodeRawDeflate, 500);
    expect(parts.length).toBeGreaterThan(1);
    const joined = joinQRs(parts);
    expect(joined.fileType).toBe('P');
    expect(joined.encoding).toBe(encoding);
    expect(new Uint8Array(joined.raw)).toEqual(bytes);
  });

  it('Z falls back to base32 when compression does not help (random bytes)', () => {
    const parts = splitBbqr(randomBytes(400, 3), 'B', 'Z', nodeRawDeflate);
    expect(parts[0]!.startsWith('B$2B')).toBe(true);
    expect(new Uint8Array(joinQRs(parts).raw)).toEqual(randomBytes(400, 3));
  });
});

describe('hostile BBQr frames', () => {
  const parts = splitQRs(sample(4), 'P', { encoding: '2', minSplit: 3, maxVersion: 15 }).parts;

  it('a missing frame is QR_INCOMPLETE', () => {
    expect(codeOf(() => joinBbqr(parts.slice(1), nodeRawDeflate))).toBe('QR_INCOMPLETE');
  });

  it('frames of two transfers, or two different frames with one number, are QR_MIXED_TRANSFER', () => {
    const other = splitQRs(sample(5).slice(0, 500), 'P', { encoding: '2', maxVersion: 15 }).parts;
    expect(other.length).toBeLessThan(parts.length);
    expect(codeOf(() => joinBbqr([...parts, other[0]!], nodeRawDeflate))).toBe('QR_MIXED_TRANSFER');
    const forged = `${parts[0]!.slice(0, 8)}AAAAAAAA`;
    expect(codeOf(() => joinBbqr([...parts, forged], nodeRawDeflate))).toBe('QR_MIXED_TRANSFER');
    const hex = splitQRs(sample(4), 'P', { encoding: 'H', minSplit: 3, maxVersion: 15 }).parts;
    expect(codeOf(() => joinBbqr([parts[0]!, ...hex.slice(1)], nodeRawDeflate))).toBe('QR_MIXED_TRANSFER');
  });

  it('a malformed header, an index beyond the total, or bad base32 is UR_INVALID', () => {
    expect(codeOf(() => joinBbqr(['B$XP0100ABC'], nodeRawDeflate))).toBe('UR_INVALID');
    expect(codeOf(() => joinBbqr(['B$2P0102AAAAAAAA'], nodeRawDeflate))).toBe('UR_INVALID');
    expect(codeOf(() => joinBbqr(['B$2P0100A1'], nodeRawDeflate))).toBe('UR_INVALID');
  });

  it('a Z bomb (5 MB of zeros in a few frames) stops at the size cap: QR_PAYLOAD_TOO_LARGE', () => {
    const bomb = splitQRs(new Uint8Array(5 * 1024 * 1024), 'P', { encoding: 'Z' }).parts;
    expect(bomb.length).toBeLessThan(20);
    expect(codeOf(() => joinBbqr(bomb, nodeRawDeflate))).toBe('QR_PAYLOAD_TOO_LARGE');
  });

  it('Z data that does not inflate is UR_INVALID', () => {
    expect(codeOf(() => joinBbqr(['B$ZP0100AAAAAAAA'], nodeRawDeflate))).toBe('UR_INVALID');
  });
});

describe('BBQr as a request', () => {
  it('a text file of BBQr frames of a PSBT is a Bitcoin request that came by BBQr', async () => {
    const psbt = new Uint8Array([0x70, 0x73, 0x62, 0x74, 0xff, ...sample(6)]);
    const { parts } = splitQRs(psbt, 'P', { encoding: 'Z', minSplit: 2, maxVersion: 15 });
    const payload = await readRequest([{ name: 'frames.txt', bytes: utf8(parts.join('\n')) }], {
      readImage: async () => [],
      deflate: nodeRawDeflate,
    });
    expect(payload.chain).toBe('btc');
    expect(payload.transport).toEqual({ kind: 'qr', frames: parts.length, bbqr: 'Z' });
    expect('psbt' in payload && payload.psbt).toEqual(psbt);
  });
});
