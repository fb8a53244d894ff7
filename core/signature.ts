/**
 * Signature normalization for secp256k1 ECDSA produced by an HSM (pure).
 * The HSM returns raw r‖s (PKCS#11 CKM_ECDSA); chains need low-S DER (BIP-62/BIP-146) or r‖s‖v (EIP-155/EIP-2).
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { makeError } from './errors.js';

const Signature = secp256k1.Signature;
const CURVE_ORDER = secp256k1.Point.CURVE().n;

/** A verified, low-S signature with the recovery id that yields the signing key. */
export interface NormalizedSignature {
  /** 32-byte r. */
  r: Uint8Array;
  /** 32-byte s, always ≤ n/2. */
  s: Uint8Array;
  /** 0 or 1: the y-parity of R after normalization (EIP-155 yParity). */
  recovery: 0 | 1;
  /** Strict DER encoding (BIP-66), without a sighash byte. */
  der: Uint8Array;
}

/**
 * Turns an HSM's raw r‖s over `digest` into a low-S signature, verifies it against `publicKey`
 * and finds the recovery id by recovering against that key. Throws HSM_SIGNATURE_INVALID when the
 * signature does not verify, so that no bad signature ever leaves.
 */
export function normalizeSignature(raw: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): NormalizedSignature {
  if (raw.length !== 64) {
    throw makeError('HSM_SIGNATURE_INVALID', `The HSM returned a ${raw.length}-byte signature; 64 bytes (r‖s) were expected.`);
  }
  if (digest.length !== 32) throw makeError('INTERNAL', 'Only 32-byte digests are signed.');
  let sig = Signature.fromBytes(raw, 'compact');
  // BIP-62 / EIP-2: s must be in the lower half of the curve order.
  if (sig.hasHighS()) sig = new Signature(sig.r, CURVE_ORDER - sig.s);
  const compact = sig.toBytes('compact');
  if (!secp256k1.verify(compact, digest, publicKey, { prehash: false, lowS: true, format: 'compact' })) {
    throw makeError('HSM_SIGNATURE_INVALID', 'The HSM signature does not verify against the key’s public key; nothing was signed.');
  }
  const expected = secp256k1.Point.fromBytes(publicKey);
  for (const recovery of [0, 1] as const) {
    try {
      const recovered = sig.addRecoveryBit(recovery).recoverPublicKey(digest);
      if (recovered.equals(expected)) {
        return { r: compact.slice(0, 32), s: compact.slice(32), recovery, der: sig.toBytes('der') };
      }
    } catch {
      // this recovery id yields no valid point; try the other one
    }
  }
  throw makeError('HSM_SIGNATURE_INVALID', 'No recovery id reproduces the key’s public key from the HSM signature.');
}

/** Compressed (33-byte) SEC1 form of a secp256k1 public key given compressed or uncompressed. */
export function compressPublicKey(publicKey: Uint8Array): Uint8Array {
  return secp256k1.Point.fromBytes(publicKey).toBytes(true);
}

/** Uncompressed (65-byte) SEC1 form of a secp256k1 public key given compressed or uncompressed. */
export function uncompressPublicKey(publicKey: Uint8Array): Uint8Array {
  return secp256k1.Point.fromBytes(publicKey).toBytes(false);
}
