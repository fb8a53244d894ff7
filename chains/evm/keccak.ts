/**
 * Keccak-256 (the Yellow Paper's hash: SHA-3 before its final padding change, so not Node's sha3-256) in
 * WebAssembly, from hash-wasm: several times faster than the pure JavaScript one on the signing path
 * (docs/bench/evm.md). The WebAssembly instance is created once, when this module is first imported (top-level
 * await), and checked against the empty-input test value: a set-up that fails or computes wrongly makes the
 * import throw, so no hash is ever computed by a broken instance. After that, hashing is synchronous.
 */
import { createKeccak } from 'hash-wasm';
import { bytesToHex } from '../../core/bytes.js';

const hasher = await createKeccak(256);

/** keccak256 of `data` (32 fresh bytes). */
export function keccak256Bytes(data: Uint8Array): Uint8Array {
  return hasher.init().update(data).digest('binary');
}

/** keccak256("") from the Keccak reference: the instance must reproduce it before anything uses it. */
const EMPTY_DIGEST = 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470';
if (bytesToHex(keccak256Bytes(new Uint8Array(0))) !== EMPTY_DIGEST)
  throw new Error('The WebAssembly keccak-256 does not reproduce its test value; refusing to hash with it.');
