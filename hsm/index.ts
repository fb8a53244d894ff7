/**
 * The HSM connection: one module load per process, the token found by label, serial or slot id, its
 * profile detected (or taken from config), its mechanisms checked, a pool of logged-in sessions, the
 * key store, the anchor keys and the DigestSigner. Always close() it.
 */
import type pkcs11js from './pkcs11js.js';
import { HsmAnchorKeys } from './anchor-keys.js';
import { HsmDigestSigner } from './digest-signer.js';
import { HsmKeyStore } from './keystore.js';
import { acquireModule, type ModuleLease } from './module.js';
import { makeError } from '../core/errors.js';
import { call } from './pkcs11-errors.js';
import { detectProfileName, profileFor, type HsmProfile, type HsmProfileName } from './profile.js';
import { SessionPool, type SessionPoolOptions } from './session-pool.js';
import { SignWorkers } from './sign-workers.js';
import { favourMainThread } from './thread-priority.js';
import { checkAnchorMechanisms, checkMechanisms, findSlot, trimLabel } from './token.js';

export interface HsmConfig {
  /** Path of the PKCS#11 module (.so). */
  module: string;
  /** Token label. */
  token: string;
  /** Slot id (CloudHSM: one slot per configured cluster); when set, the label is not required to match. */
  slot?: number;
  /** Token serial number. */
  serial?: string;
  /** Profile override (otherwise detected from the module and token info). */
  profile?: HsmProfileName;
}

/** The profile for `config` on the token in `slot`: the configured one, or detected from module/token info. */
export function resolveProfile(pkcs11: pkcs11js.PKCS11, slot: Buffer, config: HsmConfig): HsmProfile {
  if (config.profile) return profileFor(config.profile, 'config');
  const library = call('C_GetInfo', () => pkcs11.C_GetInfo());
  const token = call('C_GetTokenInfo', () => pkcs11.C_GetTokenInfo(slot));
  return profileFor(
    detectProfileName({
      libraryManufacturer: trimLabel(library.manufacturerID),
      libraryDescription: trimLabel(library.libraryDescription),
      tokenManufacturer: trimLabel(token.manufacturerID),
      tokenModel: trimLabel(token.model),
    }),
    'detected',
  );
}

/** Refuses, with a sentence naming it, what the chosen profile cannot honour on this token. */
function checkProfileFits(
  pkcs11: pkcs11js.PKCS11,
  slot: Buffer,
  profile: HsmProfile,
  options: SessionPoolOptions,
): void {
  const size = options.size ?? 4;
  if (size > profile.facts.maxSessions) {
    throw makeError(
      'HSM_PROFILE_UNSUPPORTED',
      `The ${profile.name} profile allows ${profile.facts.maxSessions} sessions per application; ${size} were asked for.`,
    );
  }
  if (profile.source === 'config' && profile.name === 'softhsm2') {
    const token = call('C_GetTokenInfo', () => pkcs11.C_GetTokenInfo(slot));
    if (!/softhsm/i.test(`${token.manufacturerID} ${token.model}`)) {
      throw makeError(
        'HSM_PROFILE_UNSUPPORTED',
        `config.json sets the softhsm2 profile but the token is "${trimLabel(token.model)}" by "${trimLabel(token.manufacturerID)}"; set "cloudhsm" or "generic".`,
      );
    }
  }
}

export class Hsm {
  private closed = false;
  private profileWorkers: Promise<number> | undefined;
  /**
   * Settles once this connection has given its lease on the library back (after its running workers exited,
   * when closed with some). Nobody needs to await it before opening again: a new connection takes its own
   * lease on the still-initialized library, and C_Finalize runs only when the last lease is given back.
   */
  released: Promise<void> = Promise.resolve();

  private constructor(
    private readonly lease: ModuleLease,
    readonly config: HsmConfig,
    readonly pkcs11: pkcs11js.PKCS11,
    readonly slot: Buffer,
    readonly profile: HsmProfile,
    readonly pool: SessionPool,
    readonly keys: HsmKeyStore,
    readonly anchors: HsmAnchorKeys,
    readonly signer: HsmDigestSigner,
  ) {}

  /**
   * Connects and logs in. The PIN's shape is checked against the profile first; the PIN is used for
   * C_Login and kept only to log in again after a lost session.
   */
  static open(config: HsmConfig, pin: string, options: SessionPoolOptions = {}): Hsm {
    const lease = acquireModule(config.module);
    const pkcs11 = lease.pkcs11;
    try {
      const slot = findSlot(pkcs11, config);
      const profile = resolveProfile(pkcs11, slot, config);
      checkProfileFits(pkcs11, slot, profile, options);
      profile.checkPin(pin);
      checkMechanisms(pkcs11, slot);
      checkAnchorMechanisms(pkcs11, slot);
      const pool = SessionPool.open(pkcs11, slot, pin, {
        ...options,
        sharedLogin: profile.facts.sharedLogin,
        readOnly: (options.readOnly ?? false) && profile.facts.readOnlySessions,
      });
      const keys = new HsmKeyStore(pkcs11, pool, profile);
      const anchors = new HsmAnchorKeys(pkcs11, pool, profile);
      void favourMainThread(); // PKCS#11 calls run on libuv's pool: let them give way to the main thread
      return new Hsm(
        lease,
        config,
        pkcs11,
        slot,
        profile,
        pool,
        keys,
        anchors,
        new HsmDigestSigner(pkcs11, pool, keys),
      );
    } catch (error) {
      lease.release();
      throw error;
    }
  }

  /**
   * Moves signing off the main thread: `count` worker threads, each with its own session (issue: network
   * HSMs). Stop them with stopSignWorkers() before close(); close() terminates any still running.
   */
  async startSignWorkers(count: number, options: { latencyMs?: number } = {}): Promise<void> {
    await this.stopSignWorkers();
    this.signer.workers = await SignWorkers.start({
      module: this.config.module,
      slot: this.slot,
      count,
      latencyMs: options.latencyMs,
    });
  }

  /**
   * Starts, once per connection, the sign workers the profile asks for (ProfileFacts.signWorkers: network HSMs;
   * none on SoftHSM2, whose work is this host's CPU); returns how many run. Called before the first signature,
   * so commands that never sign do not pay for them. A failed start is tried again by the next caller.
   */
  startProfileSignWorkers(): Promise<number> {
    this.profileWorkers ??= (async () => {
      const count = this.profile.facts.signWorkers;
      if (count > 0) await this.startSignWorkers(count);
      return count;
    })().catch((error: unknown) => {
      this.profileWorkers = undefined;
      throw error;
    });
    return this.profileWorkers;
  }

  async stopSignWorkers(): Promise<void> {
    const workers = this.signer.workers;
    this.signer.workers = undefined;
    await workers?.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const workers = this.signer.workers;
    this.signer.workers = undefined;
    try {
      this.pool.close();
    } finally {
      // PKCS#11 v2.40 §5.4: C_Finalize ends the library for every thread, so the lease is held until running
      // workers have exited (a connection opened meanwhile holds its own, and the library stays initialized).
      if (workers) this.released = workers.terminate().finally(() => this.lease.release());
      else this.lease.release();
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

export { HsmAnchorKeys, HsmDigestSigner, HsmKeyStore, SessionPool };
export type { HsmProfile, HsmProfileName };
export type { SessionPoolOptions };
export type { HsmKey, PrivateKeyProtection } from './keystore.js';
