/** DigestSigner over PKCS#11 CKM_ECDSA: raw r‖s from the HSM, normalized to low-S and verified before it leaves. */
import pkcs11js from 'pkcs11js';
import { makeError } from '../core/errors.js';
import { acceptVerifiedSignature, normalizeSignature, type NormalizedSignature } from '../core/signature.js';
import type { DigestSigner } from '../core/signer.js';
import { fastVerifier } from './native-verifier.js';
import { ckrOf } from './pkcs11-errors.js';
import type { HsmKeyStore } from './keystore.js';
import type { SessionPool } from './session-pool.js';
import type { SignWorkers, WorkerSignature } from './sign-workers.js';

export class HsmDigestSigner implements DigestSigner {
  /** When set, C_SignInit + C_Sign run in worker threads (hsm/sign-workers.ts) instead of on the event loop. */
  workers: SignWorkers | undefined;

  constructor(
    private readonly pkcs11: pkcs11js.PKCS11,
    private readonly pool: SessionPool,
    private readonly keys: HsmKeyStore,
  ) {}

  /** Raw CKM_ECDSA signature (r‖s, 64 bytes) of a 32-byte digest; no normalization. */
  async signRaw(keyId: string, digest: Uint8Array): Promise<Uint8Array> {
    if (digest.length !== 32) throw makeError('INTERNAL', 'Only 32-byte digests are signed.');
    if (this.workers) return (await this.signInWorker(this.workers, keyId, digest)).signature;
    return this.pool.run('C_Sign', async (session) => {
      let key = this.keys.privateKeyHandle(session, keyId);
      try {
        this.pkcs11.C_SignInit(session, { mechanism: pkcs11js.CKM_ECDSA }, key);
      } catch (error) {
        if (
          ckrOf(error) !== pkcs11js.CKR_KEY_HANDLE_INVALID &&
          ckrOf(error) !== pkcs11js.CKR_OBJECT_HANDLE_INVALID
        )
          throw error;
        key = this.keys.privateKeyHandle(session, keyId, true);
        this.pkcs11.C_SignInit(session, { mechanism: pkcs11js.CKM_ECDSA }, key);
      }
      const signature = await this.pkcs11.C_SignAsync(session, Buffer.from(digest), Buffer.alloc(72));
      return new Uint8Array(signature);
    });
  }

  private async signInWorker(
    workers: SignWorkers,
    keyId: string,
    digest: Uint8Array,
    publicKey?: Uint8Array,
  ): Promise<WorkerSignature> {
    // A handle found before needs no session from the pool (a stale one is refreshed below).
    const handle =
      this.keys.cachedPrivateKeyHandle(keyId) ??
      (await this.pool.run('C_FindObjects', (session) => this.keys.privateKeyHandle(session, keyId)));
    try {
      return await workers.signAndVerify(handle, digest, publicKey);
    } catch (error) {
      if ((error as { code?: string }).code !== 'HSM_KEY_NOT_FOUND') throw error;
      const fresh = await this.pool.run('C_FindObjects', (session) =>
        this.keys.privateKeyHandle(session, keyId, true),
      );
      return workers.signAndVerify(fresh, digest, publicKey);
    }
  }

  async signDigest(keyId: string, publicKey: Uint8Array, digest: Uint8Array): Promise<NormalizedSignature> {
    if (this.workers && digest.length === 32) {
      const { signature, verified } = await this.signInWorker(this.workers, keyId, digest, publicKey);
      // Verified in the worker against this digest and key: low-S and range are still checked here.
      if (verified === true) return acceptVerifiedSignature(signature, digest, publicKey, fastVerifier);
      // Not checked there, or refused there: verified here, which throws HSM_SIGNATURE_INVALID if it fails.
      return normalizeSignature(signature, digest, publicKey, fastVerifier);
    }
    return normalizeSignature(await this.signRaw(keyId, digest), digest, publicKey, fastVerifier);
  }
}
