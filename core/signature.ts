/**
 * Signature normalization for secp256k1 ECDSA produced by an HSM (pure).
 * The HSM returns raw r‖s (PKCS#11 CKM_ECDSA); chains need low-S DER (BIP-62/BIP-146) or r‖s‖v (EIP-155/EIP-2).
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { equalBytes } from '@noble/curves/utils.js';
import { makeError } from './errors.js';

const Signature = secp256k1.Signature;

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

/** secp256k1's group order n and n/2, big-endian (SEC 2 §2.4.1). */
const ORDER = hexBytes('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141');
const HALF_ORDER = hexBytes('7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0');

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g)!, (pair) => parseInt(pair, 16));
}

/** Big-endian comparison of two 32-byte integers: -1, 0 or 1. */
function compare32(a: Uint8Array, aOffset: number, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const x = a[aOffset + i]!;
    const y = b[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Whether the 32 bytes at `offset` hold an integer in [1, n-1] (SEC 1 §4.1.4 step 1). */
function inScalarRange(bytes: Uint8Array, offset: number): boolean {
  let nonZero = 0;
  for (let i = 0; i < 32; i++) nonZero |= bytes[offset + i]!;
  return nonZero !== 0 && compare32(bytes, offset, ORDER) < 0;
}

/**
 * The low-S (BIP-62 / EIP-2) form of a raw 64-byte r‖s, on bytes: s > n/2 becomes n − s.
 * Throws a RangeError when r or s is outside [1, n-1].
 */
export function lowS(raw: Uint8Array): Uint8Array {
  if (raw.length !== 64) throw new RangeError('r‖s must be 64 bytes');
  if (!inScalarRange(raw, 0) || !inScalarRange(raw, 32)) throw new RangeError('r or s is out of range');
  const compact = new Uint8Array(raw); // a copy, also of a Buffer (whose slice() is a view)
  if (compare32(raw, 32, HALF_ORDER) > 0) {
    let borrow = 0;
    for (let i = 31; i >= 0; i--) {
      const difference = ORDER[i]! - raw[32 + i]! - borrow;
      borrow = difference < 0 ? 1 : 0;
      compact[32 + i] = difference & 0xff;
    }
  }
  return compact;
}

/** Start of the minimal big-endian form of the 32-byte value at `offset` (leading zero bytes skipped, one kept). */
function minimalStart(bytes: Uint8Array, offset: number): number {
  let start = offset;
  while (start < offset + 31 && bytes[start] === 0) start++;
  return start;
}

/** Writes a DER INTEGER (X.690 §8.3) of the positive value bytes[from, from + length) at `at`; returns its end. */
function writeDerInteger(
  out: Uint8Array,
  at: number,
  bytes: Uint8Array,
  from: number,
  length: number,
): number {
  const pad = bytes[from]! & 0x80 ? 1 : 0; // a set top bit would read as negative: 0x00 first
  out[at] = 0x02;
  out[at + 1] = length + pad;
  out.set(bytes.subarray(from, from + length), at + 2 + pad);
  return at + 2 + pad + length;
}

/**
 * Strict DER (BIP-66) of a compact r‖s whose r and s are in [1, n-1]: SEQUENCE { INTEGER r, INTEGER s },
 * each INTEGER minimal, written into one buffer.
 */
export function derFromCompact(compact: Uint8Array): Uint8Array {
  const rStart = minimalStart(compact, 0);
  const sStart = minimalStart(compact, 32);
  const rLength = 32 - rStart;
  const sLength = 64 - sStart;
  const body = 4 + rLength + (compact[rStart]! & 0x80 ? 1 : 0) + sLength + (compact[sStart]! & 0x80 ? 1 : 0);
  const out = new Uint8Array(2 + body);
  out[0] = 0x30;
  out[1] = body;
  writeDerInteger(out, writeDerInteger(out, 2, compact, rStart, rLength), compact, sStart, sLength);
  return out;
}

/** Length and range checks, then the low-S form of an HSM's raw r‖s (throws HSM_SIGNATURE_INVALID). */
function lowSOfHsmSignature(raw: Uint8Array, digest: Uint8Array): Uint8Array {
  if (raw.length !== 64) {
    throw makeError(
      'HSM_SIGNATURE_INVALID',
      `The HSM returned a ${raw.length}-byte signature; 64 bytes (r‖s) were expected.`,
    );
  }
  if (digest.length !== 32) throw makeError('INTERNAL', 'Only 32-byte digests are signed.');
  try {
    return lowS(raw);
  } catch {
    throw makeError('HSM_SIGNATURE_INVALID', 'The HSM returned a signature whose r or s is out of range.');
  }
}

/**
 * The NormalizedSignature of a verified low-S `compact`. DER and the recovery id are computed on first use
 * (Bitcoin needs DER and never the recovery id, EIP-155 yParity; EVM the reverse), by prototype getters:
 * no closures or accessor objects are built per signature.
 */
class VerifiedSignature implements NormalizedSignature {
  readonly r: Uint8Array;
  readonly s: Uint8Array;
  readonly #compact: Uint8Array;
  readonly #digest: Uint8Array;
  readonly #publicKey: Uint8Array;
  readonly #verifier: Secp256k1Verifier;
  #der: Uint8Array | undefined;
  #recovery: 0 | 1 | undefined;

  constructor(compact: Uint8Array, digest: Uint8Array, publicKey: Uint8Array, verifier: Secp256k1Verifier) {
    this.#compact = compact;
    this.#digest = digest;
    this.#publicKey = publicKey;
    this.#verifier = verifier;
    this.r = compact.slice(0, 32);
    this.s = compact.slice(32);
  }

  get der(): Uint8Array {
    this.#der ??= derFromCompact(this.#compact);
    return this.#der;
  }

  get recovery(): 0 | 1 {
    this.#recovery ??= this.#findRecovery();
    return this.#recovery;
  }

  #findRecovery(): 0 | 1 {
    // the signature verified against the key, so it is a valid point: only its encoding may need expanding
    const expected = this.#publicKey.length === 65 ? this.#publicKey : uncompressPublicKey(this.#publicKey);
    for (const recovery of [0, 1] as const) {
      const recovered = this.#verifier.recover(this.#compact, recovery, this.#digest);
      if (recovered && equalBytes(recovered, expected)) return recovery;
    }
    throw makeError(
      'HSM_SIGNATURE_INVALID',
      'No recovery id reproduces the key’s public key from the HSM signature.',
    );
  }
}

/**
 * Turns an HSM's raw r‖s over `digest` into a low-S signature, verifies it against `publicKey`
 * and finds the recovery id (on first use) by recovering against that key. Throws HSM_SIGNATURE_INVALID
 * when the signature does not verify, so that no bad signature ever leaves.
 */
export function normalizeSignature(
  raw: Uint8Array,
  digest: Uint8Array,
  publicKey: Uint8Array,
  verifier: Secp256k1Verifier = nobleVerifier,
): NormalizedSignature {
  const compact = lowSOfHsmSignature(raw, digest);
  if (!verifier.verify(compact, digest, publicKey)) {
    throw makeError(
      'HSM_SIGNATURE_INVALID',
      'The HSM signature does not verify against the key’s public key; nothing was signed.',
    );
  }
  return new VerifiedSignature(compact, digest, publicKey, verifier);
}

/** Compressed (33-byte) SEC1 form of a secp256k1 public key given compressed or uncompressed. */
export function compressPublicKey(publicKey: Uint8Array): Uint8Array {
  return secp256k1.Point.fromBytes(publicKey).toBytes(true);
}

/** Uncompressed (65-byte) SEC1 form of a secp256k1 public key given compressed or uncompressed. */
export function uncompressPublicKey(publicKey: Uint8Array): Uint8Array {
  return secp256k1.Point.fromBytes(publicKey).toBytes(false);
}
