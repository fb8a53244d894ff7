/** DigestSigner over PKCS#11 CKM_ECDSA: raw r‖s from the HSM, normalized to low-S and verified before it leaves. */
import pkcs11js from './pkcs11js.js';
import { makeError } from '../core/errors.js';
import { normalizeSignature, type NormalizedSignature } from '../core/signature.js';
import type { DigestSigner } from '../core/signer.js';
import { fastVerifier } from './native-verifier.js';
import { ckrOf } from './pkcs11-errors.js';
import type { HsmKeyStore } from './keystore.js';
import type { SessionPool } from './session-pool.js';
import type { SignWorkers } from './sign-workers.js';
import { VerifyingKeys } from './verifying-keys.js';

/** CKM_ECDSA (PKCS#11 v2.40 §2.3.6): the raw r‖s over a digest the caller hashed; one object for every call. */
const ECDSA: pkcs11js.Mechanism = { mechanism: pkcs11js.CKM_ECDSA };

export class HsmDigestSigner implements DigestSigner {
  /** When set, C_SignInit + C_Sign run in worker threads (hsm/sign-workers.ts) instead of on the event loop. */
  workers: SignWorkers | undefined;
  /** Public keys parsed once per key id and key (hsm/verifying-keys.ts). */
  private readonly verifyingKeys = new VerifyingKeys();

  constructor(
    private readonly pkcs11: pkcs11js.PKCS11,
    private readonly pool: SessionPool,
    private readonly keys: HsmKeyStore,
  ) {}

  /** Raw CKM_ECDSA signature (r‖s, 64 bytes) of a 32-byte digest; no normalization. */
  async signRaw(keyId: string, digest: Uint8Array): Promise<Uint8Array> {
    if (digest.length !== 32) throw makeError('INTERNAL', 'Only 32-byte digests are signed.');
    if (this.workers) return this.signInWorker(this.workers, keyId, digest);
    const signature = await this.pool.run('C_Sign', (session) => this.signOnSession(session, keyId, digest));
    return new Uint8Array(signature.buffer, signature.byteOffset, signature.length);
  }

  /** C_SignInit (on this thread) and C_Sign (on libuv's pool) on one session; a stale key handle is found again. */
  private signOnSession(session: Buffer, keyId: string, digest: Uint8Array): Promise<Buffer> {
    let key = this.keys.privateKeyHandle(session, keyId);
    try {
      this.pkcs11.C_SignInit(session, ECDSA, key);
    } catch (error) {
      if (
        ckrOf(error) !== pkcs11js.CKR_KEY_HANDLE_INVALID &&
        ckrOf(error) !== pkcs11js.CKR_OBJECT_HANDLE_INVALID
      )
        throw error;
      key = this.keys.privateKeyHandle(session, keyId, true);
      this.pkcs11.C_SignInit(session, ECDSA, key);
    }
    return this.pkcs11.C_SignAsync(session, Buffer.from(digest), Buffer.alloc(72));
  }

  private async signInWorker(workers: SignWorkers, keyId: string, digest: Uint8Array): Promise<Uint8Array> {
    // A handle found before needs no session from the pool (a stale one is refreshed below).
    const handle =
      this.keys.cachedPrivateKeyHandle(keyId) ??
      (await this.pool.run('C_FindObjects', (session) => this.keys.privateKeyHandle(session, keyId)));
    try {
      return await workers.sign(handle, digest);
    } catch (error) {
      if ((error as { code?: string }).code !== 'HSM_KEY_NOT_FOUND') throw error;
      const fresh = await this.pool.run('C_FindObjects', (session) =>
        this.keys.privateKeyHandle(session, keyId, true),
      );
      return workers.sign(fresh, digest);
    }
  }

  async signDigest(keyId: string, publicKey: Uint8Array, digest: Uint8Array): Promise<NormalizedSignature> {
    // Verified against the uncompressed form, parsed once per key: no decompression per signature.
    const verifying = this.verifyingKeys.uncompressed(keyId, publicKey);
    return normalizeSignature(await this.signRaw(keyId, digest), digest, verifying, fastVerifier);
  }
}
