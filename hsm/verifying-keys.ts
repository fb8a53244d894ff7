/**
 * The public keys the HSM signer verifies against, parsed once per key: a key given compressed (BTC, SEC 1
 * §2.3.4) is decompressed, a square root, once rather than inside every verification and recovery.
 * Entries are keyed by key id AND the exact public-key bytes given: another public key under the same id is
 * parsed afresh and replaces the entry, so a cached entry never verifies a signature for another key.
 */
import { equalBytes } from '@noble/curves/utils.js';
import { BoundedMemo } from '../core/bounded-memo.js';
import { uncompressPublicKey } from '../core/signature.js';

interface VerifyingKey {
  /** The public key as the caller gave it (a copy). */
  given: Uint8Array;
  /** Its uncompressed SEC1 form (65 bytes). */
  uncompressed: Uint8Array;
}

export class VerifyingKeys {
  private readonly entries: BoundedMemo<string, VerifyingKey>;

  /** `limit` bounds the memory: the memo is emptied when it is full (a signer uses a handful of keys). */
  constructor(limit = 256) {
    this.entries = new BoundedMemo(limit);
  }

  /**
   * The uncompressed form of `publicKey` for `keyId`, or `publicKey` itself when it is not a secp256k1 point
   * (nothing is cached then, and the verification against it fails: HSM_SIGNATURE_INVALID).
   */
  uncompressed(keyId: string, publicKey: Uint8Array): Uint8Array {
    const cached = this.entries.get(keyId);
    if (cached && equalBytes(cached.given, publicKey)) return cached.uncompressed;
    let uncompressed: Uint8Array;
    try {
      uncompressed = uncompressPublicKey(publicKey);
    } catch {
      return publicKey;
    }
    this.entries.set(keyId, { given: publicKey.slice(), uncompressed });
    return uncompressed;
  }

  /** Number of cached keys (tests). */
  get size(): number {
    return this.entries.size;
  }
}
