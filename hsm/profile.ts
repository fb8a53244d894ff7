/**
 * HSM profiles: what a family of PKCS#11 HSMs allows, detected from the module and token info and
 * overridable in config.json (`hsm.profile`). Code paths ask the profile instead of assuming SoftHSM2.
 * docs/hsm.md ("Profiles") lists each profile's facts and where they come from.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pkcs11js from './pkcs11js.js';
import { makeError } from '../core/errors.js';
import { ckrOf, pkcs11Error } from './pkcs11-errors.js';

export const PROFILE_NAMES = ['softhsm2', 'cloudhsm', 'generic'] as const;
export type HsmProfileName = (typeof PROFILE_NAMES)[number];

export interface ProfileFacts {
  name: HsmProfileName;
  /** C_OpenSession without CKF_RW_SESSION works (CloudHSM SDK 5 answers CKR_FUNCTION_FAILED). */
  readOnlySessions: boolean;
  /** CKO_DATA token objects can be created (CloudHSM SDK 5 documents key objects only). */
  dataObjects: boolean;
  /** C_SetAttributeValue on keys (CloudHSM SDK 5: attributes change only through its CLI). */
  setAttributes: boolean;
  /**
   * C_CopyObject, with CKA_TOKEN changed from false to true (PKCS#11 v2.40 §5.7): an anchor key is generated as a
   * session object and copied onto the token, several times faster on SoftHSM2 than generating a token key.
   * CloudHSM SDK 5 does not list C_CopyObject among its operations.
   */
  copyObjects: boolean;
  /** The login is shared by every application on the host: a second C_Login says "already logged in". */
  sharedLogin: boolean;
  /** C_Login's user PIN must be `<crypto-user>:<password>`. */
  userColonPin: boolean;
  /** CKA_ID must be unique across the token or cluster. */
  uniqueKeyIds: boolean;
  /** Longest CKA_ID coldsign writes on this profile. */
  maxKeyIdBytes: number;
  /** Sessions per application the HSM allows. */
  maxSessions: number;
  /** Attempts, and delay before each retry, for a key that is not yet usable right after generation. */
  keyAvailabilityDelaysMs: number[];
  /**
   * Sign worker threads the appliance starts (hsm/sign-workers.ts): a network HSM's C_SignInit + C_Sign round
   * trips then overlap; 0 where the HSM's work is this host's CPU (SoftHSM2), which workers would not speed up.
   */
  signWorkers: number;
}

/** Sign workers for a network HSM: as many as the signatures a request keeps in flight (chains/btc/sign.ts). */
export const NETWORK_SIGN_WORKERS = 8;

const FACTS: Record<HsmProfileName, ProfileFacts> = {
  softhsm2: {
    name: 'softhsm2',
    readOnlySessions: true,
    dataObjects: true,
    setAttributes: true,
    copyObjects: true,
    sharedLogin: false,
    userColonPin: false,
    uniqueKeyIds: false,
    maxKeyIdBytes: 64,
    maxSessions: 1024,
    keyAvailabilityDelaysMs: [],
    signWorkers: 0,
  },
  cloudhsm: {
    name: 'cloudhsm',
    readOnlySessions: false,
    dataObjects: false,
    setAttributes: false,
    copyObjects: false,
    sharedLogin: true,
    userColonPin: true,
    uniqueKeyIds: true,
    maxKeyIdBytes: 64,
    maxSessions: 1024,
    keyAvailabilityDelaysMs: [100, 200, 400, 800, 1600],
    signWorkers: NETWORK_SIGN_WORKERS,
  },
  generic: {
    name: 'generic',
    readOnlySessions: true,
    dataObjects: false,
    setAttributes: false,
    copyObjects: false,
    sharedLogin: true,
    userColonPin: false,
    uniqueKeyIds: true,
    maxKeyIdBytes: 64,
    maxSessions: 64,
    keyAvailabilityDelaysMs: [100, 200, 400],
    signWorkers: NETWORK_SIGN_WORKERS,
  },
};

/** PKCS#11 results a network HSM gives for a key not yet replicated (the SDK logs the reason). */
const NOT_YET_AVAILABLE = [
  pkcs11js.CKR_KEY_HANDLE_INVALID,
  pkcs11js.CKR_OBJECT_HANDLE_INVALID,
  pkcs11js.CKR_FUNCTION_FAILED,
];

export class HsmProfile {
  constructor(
    readonly facts: ProfileFacts,
    /** How the profile was chosen: "detected" from token info or set in "config". */
    readonly source: 'detected' | 'config',
  ) {}

  get name(): HsmProfileName {
    return this.facts.name;
  }

  /** Sentences naming what coldsign does not do on this profile (shown by `hsm info`). */
  limits(): string[] {
    const f = this.facts;
    const out: string[] = [];
    if (!f.dataObjects) out.push('no PKCS#11 data objects are created (the audit anchor is a key ratchet)');
    if (!f.setAttributes)
      out.push('no attribute is changed after creation (CKA_ID is fixed when a key is made)');
    if (!f.readOnlySessions) out.push('every session is read-write (the HSM offers no read-only session)');
    if (f.sharedLogin) out.push('the login is shared: "user already logged in" is accepted as logged in');
    if (f.userColonPin) out.push('the PIN must be <crypto-user>:<password>');
    if (f.keyAvailabilityDelaysMs.length > 0)
      out.push(
        `a new key may be unusable until replicated: retried ${f.keyAvailabilityDelaysMs.length} times, then HSM_KEY_NOT_AVAILABLE`,
      );
    return out;
  }

  /** Checks the PIN's shape before any C_Login (a wrong shape never reaches the HSM's retry counter). */
  checkPin(pin: string): void {
    if (this.facts.userColonPin && !/^[^:\s]+:.+$/s.test(pin)) {
      throw makeError(
        'HSM_PIN_FORMAT',
        'The cloudhsm profile needs the PIN as <crypto-user>:<password> (for example "coldsign:..."); nothing was sent to the HSM.',
      );
    }
  }

  /** Checks a CKA_ID against what the profile stores (non-empty, bounded). */
  checkKeyId(id: Uint8Array): void {
    if (id.length === 0 || id.length > this.facts.maxKeyIdBytes) {
      throw makeError(
        'INTERNAL',
        `A CKA_ID of ${id.length} bytes is outside 1..${this.facts.maxKeyIdBytes} on the ${this.name} profile.`,
      );
    }
  }

  /**
   * Runs `fn`, retrying a key that is not yet available after generation with the profile's bounded
   * back-off; HSM_KEY_NOT_AVAILABLE once the bound is spent. Other failures pass through at once.
   */
  async whenKeyAvailable<T>(method: string, fn: () => Promise<T>): Promise<T> {
    const delays = this.facts.keyAvailabilityDelaysMs;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await fn();
      } catch (error) {
        const ckr = ckrOf((error as { cause?: unknown })?.cause ?? error);
        const transient = ckr !== undefined && NOT_YET_AVAILABLE.includes(ckr);
        if (!transient || delays.length === 0) throw pkcs11Error(error, method);
        if (attempt >= delays.length) {
          throw makeError(
            'HSM_KEY_NOT_AVAILABLE',
            `A key generated on the HSM was still not usable after ${delays.length} retries (${method}); on CloudHSM a new key must reach 2 HSMs of the cluster first.`,
            { method },
            error,
          );
        }
        await sleep(delays[attempt] ?? 0);
      }
    }
  }
}

export interface DetectionInfo {
  libraryManufacturer: string;
  libraryDescription: string;
  tokenManufacturer: string;
  tokenModel: string;
}

/** Picks the profile from module/token info: SoftHSM2 and AWS CloudHSM by name, anything else generic. */
export function detectProfileName(info: DetectionInfo): HsmProfileName {
  const text = Object.values(info).join(' ');
  if (/softhsm/i.test(text)) return 'softhsm2';
  if (/cloudhsm|amazon|\baws\b/i.test(text)) return 'cloudhsm';
  return 'generic';
}

export function profileFor(name: HsmProfileName, source: 'detected' | 'config'): HsmProfile {
  return new HsmProfile(FACTS[name], source);
}
