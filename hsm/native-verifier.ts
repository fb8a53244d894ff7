/**
 * libsecp256k1 (Bitcoin Core's library, the prebuilt binding shipped in the `secp256k1` package) as the
 * verifier of every HSM signature: about 30x faster than pure JavaScript, so verifying before release
 * costs little next to the HSM. Falls back to @noble/curves where no prebuilt binding loads.
 */
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { nobleVerifier, type Secp256k1Verifier } from '../core/signature.js';

interface NativeSecp256k1 {
  ecdsaVerify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
  ecdsaRecover(signature: Uint8Array, recid: number, message: Uint8Array, compressed: boolean): Uint8Array;
}

function loadNative(): NativeSecp256k1 | undefined {
  // The binding keeps its class in one process-wide reference that each loading thread overwrites (and frees
  // the previous thread's): loaded in worker threads it corrupts the heap (docs/hsm.md). Main thread only.
  if (!isMainThread) return undefined;
  try {
    return createRequire(import.meta.url)('secp256k1/bindings') as NativeSecp256k1;
  } catch {
    return undefined;
  }
}

const native = loadNative();

export const fastVerifier: Secp256k1Verifier = native
  ? {
      verify: (compact, digest, publicKey) => {
        try {
          return native.ecdsaVerify(compact, digest, publicKey);
        } catch {
          return false;
        }
      },
      recover: (compact, recovery, digest) => {
        try {
          return native.ecdsaRecover(compact, recovery, digest, false);
        } catch {
          return undefined;
        }
      },
    }
  : nobleVerifier;

export const verifierName = native ? 'libsecp256k1' : '@noble/curves';
