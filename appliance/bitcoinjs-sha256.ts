/**
 * SHA-256 (FIPS 180-4) for bitcoinjs-lib inside the CLI bundle (scripts/bundle.mjs binds bitcoinjs-lib's imports of
 * @noble/hashes' `sha256` to this): Node's native hash, returned as a plain Uint8Array (a copy, not a Buffer), as
 * noble's is.
 */
import { nativeSha256 } from './native-sha256.js';

export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(nativeSha256(data));
}
