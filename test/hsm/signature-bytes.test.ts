/**
 * Low-S (BIP-62/146) and strict DER (BIP-66) computed on bytes (core/signature.ts), checked against
 * @noble/curves' big-integer implementation and bitcoinjs-lib's BIP-66 decoder, on edge values and on
 * signatures made by a real SoftHSM2 token.
 */
import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { script } from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatBytes } from '../../core/bytes.js';
import { isColdsignError } from '../../core/errors.js';
import { derFromCompact, lowS, normalizeSignature } from '../../core/signature.js';
import type { Hsm } from '../../hsm/index.js';
import type { HsmKey } from '../../hsm/keystore.js';
import { fastVerifier } from '../../hsm/native-verifier.js';
import { createTestToken, type TestToken } from '../support/softhsm.js';

const N = secp256k1.Point.CURVE().n;
const HALF = N / 2n;

const be32 = (value: bigint): Uint8Array => {
  const out = new Uint8Array(32);
  for (let i = 31, v = value; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
};
const compactOf = (r: bigint, s: bigint) => concatBytes(be32(r), be32(s));

/** The reference: @noble/curves' own low-S normalization and DER encoding, on big integers. */
function reference(raw: Uint8Array): { compact: Uint8Array; der: Uint8Array } {
  const sig = secp256k1.Signature.fromBytes(raw, 'compact');
  const low = sig.hasHighS() ? new secp256k1.Signature(sig.r, N - sig.s) : sig;
  return { compact: low.toBytes('compact'), der: low.toBytes('der') };
}

describe('low-S and DER on bytes', () => {
  const edges: Array<[string, bigint, bigint]> = [
    ['s = n/2 (kept)', 5n, HALF],
    ['s = n/2 + 1 (flipped)', 5n, HALF + 1n],
    ['s = n − 1 (flipped to 1)', 5n, N - 1n],
    ['s = 1', 5n, 1n],
    ['r = n − 1 (top bit set: DER pads a zero byte)', N - 1n, 7n],
    ['r and s with leading zero bytes', 0x80n, 0x7fn],
    ['r of one byte, s high', 1n, N - 2n],
    ['r = 2^255 (top bit set)', 1n << 255n, HALF - 1n],
  ];
  for (const [name, r, s] of edges) {
    it(`match @noble/curves: ${name}`, () => {
      const raw = compactOf(r, s);
      const ours = lowS(raw);
      const expected = reference(raw);
      expect(ours).toEqual(expected.compact);
      expect(derFromCompact(ours)).toEqual(expected.der);
    });
  }

  it('match @noble/curves on 2,000 random r‖s, and bitcoinjs-lib decodes every DER (BIP-66)', () => {
    let flipped = 0;
    for (let i = 0; i < 2000; i++) {
      const raw = new Uint8Array(randomBytes(64));
      // a few leading zero bytes now and then, so that short integers are covered
      if (i % 7 === 0) raw.fill(0, 0, 1 + (i % 5));
      if (i % 11 === 0) raw.fill(0, 32, 33 + (i % 4));
      const ours = lowS(raw);
      const expected = reference(raw);
      expect(ours).toEqual(expected.compact);
      const der = derFromCompact(ours);
      expect(der).toEqual(expected.der);
      const decoded = script.signature.decode(concatBytes(der, Uint8Array.of(1)));
      expect(new Uint8Array(decoded.signature)).toEqual(ours);
      if (raw[32]! !== ours[32]!) flipped++;
    }
    expect(flipped).toBeGreaterThan(0);
  });

  const outOfRange: Array<[string, Uint8Array]> = [
    ['r = 0', compactOf(0n, 5n)],
    ['s = 0', compactOf(5n, 0n)],
    ['r = n', compactOf(N, 5n)],
    ['s = n', compactOf(5n, N)],
    ['s = 2^256 − 1', concatBytes(be32(5n), new Uint8Array(32).fill(0xff))],
  ];
  for (const [name, raw] of outOfRange) {
    it(`refuse ${name} (HSM_SIGNATURE_INVALID, before any verification)`, () => {
      expect(() => lowS(raw)).toThrow(RangeError);
      let error: unknown;
      try {
        normalizeSignature(raw, new Uint8Array(32).fill(1), secp256k1.getPublicKey(be32(9n)));
      } catch (e) {
        error = e;
      }
      expect(isColdsignError(error) && error.code).toBe('HSM_SIGNATURE_INVALID');
    });
  }
});

describe('low-S and DER of SoftHSM2 signatures', () => {
  let token: TestToken;
  let hsm: Hsm;
  let key: HsmKey;

  beforeAll(async () => {
    token = createTestToken('coldsign-sigbytes');
    hsm = token.open({ size: 2 });
    key = await hsm.keys.generate('sigbytes');
  });
  afterAll(() => {
    hsm?.close();
    token?.cleanup();
  });

  it('every normalized signature equals @noble/curves low-S, its DER decodes (BIP-66) and verifies', async () => {
    let high = 0;
    for (let i = 0; i < 48; i++) {
      const digest = new Uint8Array(randomBytes(32));
      const raw = await hsm.signer.signRaw(key.keyId, digest);
      if (secp256k1.Signature.fromBytes(raw, 'compact').hasHighS()) high++;
      const normalized = normalizeSignature(raw, digest, key.publicKey, fastVerifier);
      const compact = concatBytes(normalized.r, normalized.s);
      expect(compact).toEqual(reference(raw).compact);
      expect(normalized.der).toEqual(reference(raw).der);
      const decoded = script.signature.decode(concatBytes(normalized.der, Uint8Array.of(1)));
      expect(
        secp256k1.verify(new Uint8Array(decoded.signature), digest, key.publicKey, { prehash: false }),
      ).toBe(true);
    }
    // an HSM returns high S about half the time: the flip path was exercised
    expect(high).toBeGreaterThan(0);
  });

  it('a signature over another digest is refused (verified against the digest it was asked for)', async () => {
    const digest = new Uint8Array(randomBytes(32));
    const raw = await hsm.signer.signRaw(key.keyId, digest);
    const other = digest.slice();
    other[0]! ^= 1;
    let error: unknown;
    try {
      normalizeSignature(raw, other, key.publicKey, fastVerifier);
    } catch (e) {
      error = e;
    }
    expect(isColdsignError(error) && error.code).toBe('HSM_SIGNATURE_INVALID');
  });
});
