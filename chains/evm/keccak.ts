/**
 * Keccak-256 (the Yellow Paper's hash: SHA-3 before its final padding change, so not Node's sha3-256). Hashing is
 * synchronous and always correct: hash-wasm's WebAssembly instance, several times faster than JavaScript on the
 * signing path (docs/bench/evm.md), once it is ready and has reproduced the empty-input test value; until then, or
 * if its set-up fails or computes wrongly, @noble/hashes' JavaScript one. The instance is created when this module
 * is first evaluated; the request pipeline awaits `keccakReady` before it parses, so signing uses the fast one.
 * (No top-level await: the CLI bundle is a CommonJS script, docs/cli-startup.md.)
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { createKeccak, type IHasher } from 'hash-wasm';
import { bytesToHex } from '../../core/bytes.js';

/** keccak256("") from the Keccak reference: the WebAssembly instance must reproduce it before it is used. */
const EMPTY_DIGEST = 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470';

let wasm: IHasher | undefined;

/** Settles once the WebAssembly instance is in use, or is known unusable (the JavaScript one stays); never rejects. */
export const keccakReady: Promise<void> = createKeccak(256).then(
  (hasher) => {
    if (bytesToHex(hasher.init().update(new Uint8Array(0)).digest('binary')) === EMPTY_DIGEST) wasm = hasher;
  },
  () => undefined,
);

/** Which implementation hashes now: 'hash-wasm' once its instance is ready and checked, else '@noble/hashes'. */
export function keccakImplementation(): 'hash-wasm' | '@noble/hashes' {
  return wasm ? 'hash-wasm' : '@noble/hashes';
}

/** keccak256 of `data` (32 fresh bytes). */
export function keccak256Bytes(data: Uint8Array): Uint8Array {
  return wasm ? wasm.init().update(data).digest('binary') : keccak_256(data);
}
