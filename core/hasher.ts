/**
 * SHA-256 (FIPS 180-4) as a port. core/ and the chain codecs are pure (no Node built-ins), so a caller
 * with a native implementation (the appliance: Node's OpenSSL) passes it in; without one, @noble/hashes.
 * Every implementation must give the same 32 bytes for the same input (test/core/hasher.test.ts).
 */
import { sha256 } from '@noble/hashes/sha2.js';

export type Sha256 = (bytes: Uint8Array) => Uint8Array;

/** The pure-JS default. */
export const pureSha256: Sha256 = (bytes) => sha256(bytes);

/** Bitcoin's double SHA-256 (txids, BIP-143 digests): SHA-256(SHA-256(bytes)). */
export function hash256With(hash: Sha256, bytes: Uint8Array): Uint8Array {
  return hash(hash(bytes));
}
