/**
 * The HSM connection: one module load per process, the token found by label, its mechanisms
 * checked, a pool of logged-in sessions, the key store and the DigestSigner. Always close() it.
 */
import type pkcs11js from 'pkcs11js';
import { HsmDigestSigner } from './digest-signer.js';
import { HsmKeyStore } from './keystore.js';
import { acquireModule, releaseModule } from './module.js';
import { SessionPool, type SessionPoolOptions } from './session-pool.js';
import { checkMechanisms, findSlotByLabel } from './token.js';

export interface HsmConfig {
  /** Path of the PKCS#11 module (.so). */
  module: string;
  /** Token label. */
  token: string;
}

export class Hsm {
  private closed = false;

  private constructor(
    readonly config: HsmConfig,
    readonly pkcs11: pkcs11js.PKCS11,
    readonly slot: Buffer,
    readonly pool: SessionPool,
    readonly keys: HsmKeyStore,
    readonly signer: HsmDigestSigner,
  ) {}

  /** Connects and logs in. The PIN is used for C_Login and kept only to log in again after a lost session. */
  static open(config: HsmConfig, pin: string, options: SessionPoolOptions = {}): Hsm {
    const pkcs11 = acquireModule(config.module);
    try {
      const slot = findSlotByLabel(pkcs11, config.token);
      checkMechanisms(pkcs11, slot);
      const pool = SessionPool.open(pkcs11, slot, pin, options);
      const keys = new HsmKeyStore(pkcs11, pool);
      return new Hsm(config, pkcs11, slot, pool, keys, new HsmDigestSigner(pkcs11, pool, keys));
    } catch (error) {
      releaseModule(config.module);
      throw error;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.pool.close();
    } finally {
      releaseModule(this.config.module);
    }
  }
}

/** Opens the HSM, runs `fn`, and always closes (logout, close sessions, C_Finalize). */
export async function withHsm<T>(
  config: HsmConfig,
  pin: string,
  fn: (hsm: Hsm) => Promise<T>,
  options?: SessionPoolOptions,
): Promise<T> {
  const hsm = Hsm.open(config, pin, options);
  try {
    return await fn(hsm);
  } finally {
    hsm.close();
  }
}

export { HsmDigestSigner, HsmKeyStore, SessionPool };
export type { SessionPoolOptions };
export type { HsmKey, PrivateKeyProtection } from './keystore.js';
