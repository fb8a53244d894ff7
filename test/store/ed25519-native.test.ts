/** The native Ed25519 verifier used when the policy in force is loaded agrees with @noble/curves (RFC 8032). */
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { nativeEd25519Verify } from '../../store/ed25519-native.js';
import { nobleEd25519Verify } from '../../policy/signing.js';

/** The order of the Ed25519 base point (RFC 8032 §5.1): S + L is the same signature, non-canonically encoded. */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function withS(signature: Uint8Array, s: bigint): Uint8Array {
  const out = Uint8Array.from(signature);
  for (let i = 0; i < 32; i += 1) out[32 + i] = Number((s >> BigInt(8 * i)) & 0xffn);
  return out;
}

describe('native Ed25519 verification (node:crypto)', () => {
  const secret = ed25519.utils.randomSecretKey();
  const publicKey = ed25519.getPublicKey(secret);
  const message = new TextEncoder().encode('{"rules":[],"version":3}');
  const signature = ed25519.sign(message, secret);

  it('accepts what @noble/curves signs and verifies', () => {
    expect(nobleEd25519Verify(signature, message, publicKey)).toBe(true);
    expect(nativeEd25519Verify(signature, message, publicKey)).toBe(true);
  });

  it('refuses a changed message, a changed signature, another key and wrong lengths', () => {
    const changed = Uint8Array.from(message);
    changed[3] = changed[3]! ^ 1;
    expect(nativeEd25519Verify(signature, changed, publicKey)).toBe(false);
    const bent = Uint8Array.from(signature);
    bent[10] = bent[10]! ^ 1;
    expect(nativeEd25519Verify(bent, message, publicKey)).toBe(false);
    const other = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
    expect(nativeEd25519Verify(signature, message, other)).toBe(false);
    expect(nativeEd25519Verify(signature.slice(0, 63), message, publicKey)).toBe(false);
    expect(nativeEd25519Verify(signature, message, publicKey.slice(0, 31))).toBe(false);
  });

  it('refuses a non-canonical S (S + L), a malleated copy of a valid signature', () => {
    let s = 0n;
    for (let i = 31; i >= 0; i -= 1) s = (s << 8n) | BigInt(signature[32 + i]!);
    const malleated = withS(signature, s + L);
    expect(nativeEd25519Verify(malleated, message, publicKey)).toBe(false);
  });
});
