/**
 * signEvm's one check with a raw signer (the HSM path): the HSM's r‖s is made low-S and accepted only when it
 * recovers to the key's public key — one recovery (yParity 0), and a verify under the key only when that recovery
 * gives another key (then yParity is 1). Signers that answer with another
 * key's signature, a wrong length or out-of-range values are refused with nothing returned. These signers are
 * software mocks (an HSM cannot be made to misbehave); the real HSM path is test/evm/hsm-sign.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Transaction } from 'ethers';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '../../core/bytes.js';
import { nobleVerifier, type Secp256k1Verifier } from '../../core/signature.js';
import type { DigestSigner } from '../../core/signer.js';
import { parseEvmRequest, signEvm, summarizeEvm } from '../../chains/evm/index.js';
import { expectCodeAsync, PublishedKeySigner, utf8 } from './helpers.js';
import { KEY_A, SECRET_A, SECRET_B, unsignedHex } from './fixtures.js';

const N = secp256k1.Point.CURVE().n;

/** Counts the curve operations signEvm asks for. */
function counting(): Secp256k1Verifier & { recoveries: number; verifies: number } {
  const v = {
    recoveries: 0,
    verifies: 0,
    verify: (...args: Parameters<Secp256k1Verifier['verify']>) => {
      v.verifies++;
      return nobleVerifier.verify(...args);
    },
    recover: (...args: Parameters<Secp256k1Verifier['recover']>) => {
      v.recoveries++;
      return nobleVerifier.recover(...args);
    },
  };
  return v;
}

/** A raw signer (no normalization, no verification) over a published test key, optionally making s high. */
function rawSigner(secret: Uint8Array, transform: (raw: Uint8Array) => Uint8Array = (r) => r): DigestSigner {
  const published = new PublishedKeySigner(secret);
  return {
    signDigest: (keyId, publicKey, digest) => published.signDigest(keyId, publicKey, digest),
    signRaw: async (_keyId, digest) =>
      transform(secp256k1.sign(digest, secret, { prehash: false, lowS: true })),
  };
}

const highS = (raw: Uint8Array): Uint8Array => {
  const sig = secp256k1.Signature.fromBytes(raw, 'compact');
  return new secp256k1.Signature(sig.r, N - sig.s).toBytes('compact');
};

function planned(type: 0 | 2, nonce = 7) {
  const parsed = parseEvmRequest(utf8(unsignedHex({ type, nonce })));
  return { parsed, plan: summarizeEvm(parsed, [KEY_A], []).plan };
}

describe('signEvm with a raw signer', () => {
  it('one recovery, and one verify when yParity is 1; the result recovers to the key (ethers)', async () => {
    for (const type of [0, 2] as const) {
      for (const transform of [undefined, highS]) {
        const { parsed, plan } = planned(type);
        const verifier = counting();
        const signed = await signEvm(parsed, plan, rawSigner(SECRET_A, transform), verifier);
        expect(verifier.recoveries).toBe(1);
        expect(verifier.verifies).toBe(signed.yParity);
        expect(BigInt(signed.s)).toBeLessThanOrEqual(N / 2n);
        expect(Transaction.from(signed.rawTransaction!).from).toBe(KEY_A.address);
      }
    }
  });

  it('both yParity values: each signed transaction recovers to the key (ethers) with the v it carries', async () => {
    const seen = new Set<number>();
    for (let nonce = 0; nonce < 32 && seen.size < 2; nonce++) {
      for (const type of [0, 2] as const) {
        const { parsed, plan } = planned(type, nonce);
        const verifier = counting();
        const signed = await signEvm(parsed, plan, rawSigner(SECRET_A), verifier);
        seen.add(signed.yParity);
        const tx = Transaction.from(signed.rawTransaction!);
        expect(tx.from).toBe(KEY_A.address);
        expect(tx.signature!.yParity).toBe(signed.yParity);
        expect(verifier.verifies).toBe(signed.yParity);
      }
    }
    expect([...seen].sort()).toEqual([0, 1]);
  });

  it('an r that is no point’s x-coordinate recovers to nothing and is refused: HSM_SIGNATURE_INVALID', async () => {
    const { parsed, plan } = planned(2);
    // SEC 1 §4.1.6 step 1.3: r = 5 is not the x-coordinate of a secp256k1 point (5^3 + 7 = 132 is no square mod p).
    const r = Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? 5 : 0));
    expect(() => secp256k1.Point.fromHex(`02${bytesToHex(r)}`)).toThrow();
    const verifier = counting();
    await expectCodeAsync(
      () =>
        signEvm(
          parsed,
          plan,
          rawSigner(SECRET_A, (raw) => Uint8Array.from([...r, ...raw.subarray(32)])),
          verifier,
        ),
      'HSM_SIGNATURE_INVALID',
    );
    expect(verifier.verifies).toBe(0);
  });

  it('another key’s valid signature, a 63-byte answer and r = 0 are refused: HSM_SIGNATURE_INVALID', async () => {
    const { parsed, plan } = planned(2);
    await expectCodeAsync(() => signEvm(parsed, plan, rawSigner(SECRET_B)), 'HSM_SIGNATURE_INVALID');
    await expectCodeAsync(
      () =>
        signEvm(
          parsed,
          plan,
          rawSigner(SECRET_A, (raw) => raw.subarray(1)),
        ),
      'HSM_SIGNATURE_INVALID',
    );
    await expectCodeAsync(
      () =>
        signEvm(
          parsed,
          plan,
          rawSigner(SECRET_A, (raw) => Uint8Array.from([...new Uint8Array(32), ...raw.subarray(32)])),
        ),
      'HSM_SIGNATURE_INVALID',
    );
  });

  it('a plan whose address is not its public key’s is refused before the HSM signs', async () => {
    const { parsed, plan } = planned(2);
    let calls = 0;
    const signer: DigestSigner = {
      signDigest: () => Promise.reject(new Error('not called')),
      signRaw: async () => {
        calls++;
        return new Uint8Array(64);
      },
    };
    await expectCodeAsync(
      () => signEvm(parsed, { ...plan, address: '0x0000000000000000000000000000000000000001' }, signer),
      'HSM_SIGNATURE_INVALID',
    );
    expect(calls).toBe(0);
  });
});
