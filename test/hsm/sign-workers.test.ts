/** Signing off the main thread: sign workers, each owning a session on a real SoftHSM2 token. */
import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { script } from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatBytes } from '../../core/bytes.js';
import { isColdsignError } from '../../core/errors.js';
import type { Hsm } from '../../hsm/index.js';
import type { HsmKey } from '../../hsm/keystore.js';
import { createTestToken, type TestToken } from '../support/softhsm.js';

let token: TestToken;
let hsm: Hsm;
let key: HsmKey;
let other: HsmKey;

beforeAll(async () => {
  token = createTestToken('coldsign-workers');
  hsm = token.open({ size: 2 });
  key = await hsm.keys.generate('worker-key');
  other = await hsm.keys.generate('worker-other-key');
  await hsm.startSignWorkers(4);
});

afterAll(async () => {
  await hsm?.stopSignWorkers();
  hsm?.close();
  token?.cleanup();
});

describe('sign workers', () => {
  it('sign 64 digests in flight: every signature low-S and valid under @noble/curves', async () => {
    const digests = Array.from({ length: 64 }, () => new Uint8Array(randomBytes(32)));
    const signatures = await Promise.all(
      digests.map((d) => hsm.signer.signDigest(key.keyId, key.publicKey, d)),
    );
    signatures.forEach((signature, i) => {
      const compact = concatBytes(signature.r, signature.s);
      expect(secp256k1.verify(compact, digests[i]!, key.publicKey, { prehash: false, lowS: true })).toBe(
        true,
      );
    });
  });

  it('map a PKCS#11 failure in a worker to its code (an unknown key handle)', async () => {
    const error = await hsm.signer
      .workers!.sign(Buffer.from([0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0]), new Uint8Array(32))
      .catch((e: unknown) => e);
    expect(isColdsignError(error)).toBe(true);
    expect((error as { code: string }).code).toMatch(/^HSM_/);
  });

  it('a worker returns the raw r‖s of the key handle given, valid for that key and digest', async () => {
    const handle = await hsm.pool.run('C_FindObjects', (session) =>
      hsm.keys.privateKeyHandle(session, key.keyId),
    );
    const digest = new Uint8Array(randomBytes(32));
    const signature = await hsm.signer.workers!.sign(handle, digest);
    expect(secp256k1.verify(signature, digest, key.publicKey, { prehash: false, lowS: false })).toBe(true);
    expect(secp256k1.verify(signature, digest, other.publicKey, { prehash: false, lowS: false })).toBe(false);
  });

  it('a signature made in a worker that does not verify is refused by the signer (HSM_SIGNATURE_INVALID)', async () => {
    // signed with `key` but checked against `other`'s public key: the signer verifies on the main thread and refuses
    const error = await hsm.signer
      .signDigest(key.keyId, other.publicKey, new Uint8Array(randomBytes(32)))
      .catch((e: unknown) => e);
    expect(isColdsignError(error) && error.code).toBe('HSM_SIGNATURE_INVALID');
  });

  it('signatures signed in a worker come back low-S with strict DER that bitcoinjs-lib decodes', async () => {
    for (let i = 0; i < 16; i++) {
      const digest = new Uint8Array(randomBytes(32));
      const signature = await hsm.signer.signDigest(other.keyId, other.publicKey, digest);
      const decoded = script.signature.decode(concatBytes(signature.der, Uint8Array.of(1)));
      const compact = new Uint8Array(decoded.signature);
      expect(compact).toEqual(concatBytes(signature.r, signature.s));
      expect(secp256k1.verify(compact, digest, other.publicKey, { prehash: false, lowS: true })).toBe(true);
    }
  });

  it('after the workers stop, the signer signs on the session pool again', async () => {
    await hsm.stopSignWorkers();
    const digest = new Uint8Array(randomBytes(32));
    const signature = await hsm.signer.signDigest(key.keyId, key.publicKey, digest);
    expect(
      secp256k1.verify(concatBytes(signature.r, signature.s), digest, key.publicKey, { prehash: false }),
    ).toBe(true);
  });
});
