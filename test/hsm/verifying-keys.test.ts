/** The signer's public-key cache (hsm/verifying-keys.ts): parsed once per key id and key, never shared between keys. */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { VerifyingKeys } from '../../hsm/verifying-keys.js';

const keyOf = (seed: number) => {
  const secret = new Uint8Array(32).fill(seed);
  return {
    compressed: secp256k1.getPublicKey(secret, true),
    uncompressed: secp256k1.getPublicKey(secret, false),
  };
};

describe('verifying keys', () => {
  it('decompresses a compressed key once per key id and returns the cached form after', () => {
    const keys = new VerifyingKeys();
    const a = keyOf(1);
    const first = keys.uncompressed('aa', a.compressed);
    expect(first).toEqual(a.uncompressed);
    expect(keys.uncompressed('aa', a.compressed)).toBe(first);
    expect(keys.size).toBe(1);
  });

  it('an uncompressed key maps to itself', () => {
    const a = keyOf(2);
    expect(new VerifyingKeys().uncompressed('aa', a.uncompressed)).toEqual(a.uncompressed);
  });

  it('another public key under the same key id is parsed afresh, never answered from the cache', () => {
    const keys = new VerifyingKeys();
    const a = keyOf(3);
    const b = keyOf(4);
    expect(keys.uncompressed('aa', a.compressed)).toEqual(a.uncompressed);
    expect(keys.uncompressed('aa', b.compressed)).toEqual(b.uncompressed);
    expect(keys.uncompressed('aa', a.compressed)).toEqual(a.uncompressed);
  });

  it('the same public key under another key id has its own entry', () => {
    const keys = new VerifyingKeys();
    const a = keyOf(5);
    keys.uncompressed('aa', a.compressed);
    keys.uncompressed('bb', a.compressed);
    expect(keys.size).toBe(2);
  });

  it('a caller changing its key bytes afterwards does not change the cached entry', () => {
    const keys = new VerifyingKeys();
    const a = keyOf(6);
    const b = keyOf(7);
    const given = a.compressed.slice();
    keys.uncompressed('aa', given);
    given.set(b.compressed);
    expect(keys.uncompressed('aa', given)).toEqual(b.uncompressed);
  });

  it('bytes that are not a secp256k1 point come back as given and are not cached', () => {
    const keys = new VerifyingKeys();
    const bogus = new Uint8Array(33).fill(0xff);
    expect(keys.uncompressed('aa', bogus)).toBe(bogus);
    expect(keys.size).toBe(0);
  });

  it('holds at most its limit of keys', () => {
    const keys = new VerifyingKeys(2);
    for (let i = 1; i <= 5; i++) keys.uncompressed(`id${i}`, keyOf(10 + i).compressed);
    expect(keys.size).toBeLessThanOrEqual(2);
    expect(keys.uncompressed('id5', keyOf(15).compressed)).toEqual(keyOf(15).uncompressed);
  });
});
