/**
 * Signature normalization for secp256k1 ECDSA produced by an HSM (pure).
 * The HSM returns raw r‖s (PKCS#11 CKM_ECDSA); chains need low-S DER (BIP-62/BIP-146) or r‖s‖v (EIP-155/EIP-2).
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { equalBytes } from '@noble/curves/utils.js';
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

/** ECDSA verification and public-key recovery over a 32-byte digest (no prehash). */
export interface Secp256k1Verifier {
  /** `compact` is low-S r‖s; `publicKey` is SEC1 (33 or 65 bytes). */
  verify(compact: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean;
  /** Uncompressed SEC1 public key recovered with `recovery`, or undefined when there is none. */
  recover(compact: Uint8Array, recovery: 0 | 1, digest: Uint8Array): Uint8Array | undefined;
}

/** The pure-JavaScript verifier (@noble/curves); the HSM layer injects libsecp256k1 when it is available. */
export const nobleVerifier: Secp256k1Verifier = {
  verify: (compact, digest, publicKey) =>
    secp256k1.verify(compact, digest, publicKey, { prehash: false, lowS: true }),
  recover(compact, recovery, digest) {
    try {
      return Signature.fromBytes(compact, 'compact')
        .addRecoveryBit(recovery)
        .recoverPublicKey(digest)
        .toBytes(false);
    } catch {
      return undefined;
    }
  },
};

/** The low-S (BIP-62 / EIP-2) form of a raw 64-byte r‖s. */
export function lowS(raw: Uint8Array): Uint8Array {
  const sig = Signature.fromBytes(raw, 'compact');
  return sig.hasHighS()
    ? new Signature(sig.r, CURVE_ORDER - sig.s).toBytes('compact')
    : sig.toBytes('compact');
}

/**
 * Turns an HSM's raw r‖s over `digest` into a low-S signature, verifies it against `publicKey`
 * and finds the recovery id by recovering against that key. Throws HSM_SIGNATURE_INVALID when the
 * signature does not verify, so that no bad signature ever leaves.
 */
export function normalizeSignature(
  raw: Uint8Array,
  digest: Uint8Array,
  publicKey: Uint8Array,
  verifier: Secp256k1Verifier = nobleVerifier,
): NormalizedSignature {
  if (raw.length !== 64) {
    throw makeError(
      'HSM_SIGNATURE_INVALID',
      `The HSM returned a ${raw.length}-byte signature; 64 bytes (r‖s) were expected.`,
    );
  }
  if (digest.length !== 32) throw makeError('INTERNAL', 'Only 32-byte digests are signed.');
  let compact: Uint8Array;
  try {
    compact = lowS(raw);
  } catch {
    throw makeError('HSM_SIGNATURE_INVALID', 'The HSM returned a signature whose r or s is out of range.');
  }
  if (!verifier.verify(compact, digest, publicKey)) {
    throw makeError(
      'HSM_SIGNATURE_INVALID',
      'The HSM signature does not verify against the key’s public key; nothing was signed.',
    );
  }
  // the key already verified the signature, so it is a valid point: only its encoding may need expanding
  const expected = publicKey.length === 65 ? publicKey : uncompressPublicKey(publicKey);
  const findRecovery = (): 0 | 1 => {
    for (const recovery of [0, 1] as const) {
      const recovered = verifier.recover(compact, recovery, digest);
      if (recovered && equalBytes(recovered, expected)) return recovery;
    }
    throw makeError(
      'HSM_SIGNATURE_INVALID',
      'No recovery id reproduces the key’s public key from the HSM signature.',
    );
  };
  let recovery: 0 | 1 | undefined;
  let der: Uint8Array | undefined;
  // Computed on first use: Bitcoin needs DER and never the recovery id (EIP-155 yParity); EVM the reverse.
  return {
    r: compact.slice(0, 32),
    s: compact.slice(32),
    get der() {
      der ??= Signature.fromBytes(compact, 'compact').toBytes('der');
      return der;
    },
    get recovery() {
      recovery ??= findRecovery();
      return recovery;
    },
  };
}

/** Compressed (33-byte) SEC1 form of a secp256k1 public key given compressed or uncompressed. */
export function compressPublicKey(publicKey: Uint8Array): Uint8Array {
  return secp256k1.Point.fromBytes(publicKey).toBytes(true);
}

/** Uncompressed (65-byte) SEC1 form of a secp256k1 public key given compressed or uncompressed. */
export function uncompressPublicKey(publicKey: Uint8Array): Uint8Array {
  return secp256k1.Point.fromBytes(publicKey).toBytes(false);
}
