/**
 * What a PKCS#11 module and its tokens offer (`coldsign hsm info`): library info, every slot with its token,
 * the chosen token's sessions, the mechanisms coldsign uses (with their EC capability flags) and the profile.
 * Read-only: no login and no session are needed.
 */
import pkcs11js from './pkcs11js.js';
import type { HsmConfig } from './index.js';
import { resolveProfile } from './index.js';
import { acquireModule } from './module.js';
import { call } from './pkcs11-errors.js';
import { findSlot, slotNumber, trimLabel } from './token.js';

/** PKCS#11 v2.40 §5.5 mechanism flags for elliptic curves (not exported by pkcs11js). */
/** PKCS#11 v2.40 §5.5 slot flag. */
const CKF_TOKEN_PRESENT = 0x1;
const CKF_EC_F_P = 0x00100000;
const CKF_EC_NAMEDCURVE = 0x00800000;
const CKF_EC_UNCOMPRESS = 0x01000000;
const CKF_EC_COMPRESS = 0x02000000;

/** The mechanisms coldsign uses, by role. */
const USED: Array<[number, string, string]> = [
  [pkcs11js.CKM_EC_KEY_PAIR_GEN, 'CKM_EC_KEY_PAIR_GEN', 'secp256k1 key generation'],
  [pkcs11js.CKM_ECDSA, 'CKM_ECDSA', 'signing (digest computed by coldsign)'],
  [pkcs11js.CKM_GENERIC_SECRET_KEY_GEN, 'CKM_GENERIC_SECRET_KEY_GEN', 'audit anchor keys'],
  [pkcs11js.CKM_SHA256_HMAC, 'CKM_SHA256_HMAC', 'audit anchor proofs'],
];

export interface MechanismReport {
  name: string;
  use: string;
  offered: boolean;
  minKeySize?: number;
  maxKeySize?: number;
  ecFlags?: string[];
}

export interface HsmReport {
  module: string;
  library: { manufacturer: string; description: string; version: string; cryptoki: string };
  slots: Array<{ id: number; description: string; token?: { label: string; serial: string; model: string } }>;
  token: {
    slot: number;
    label: string;
    serial: string;
    manufacturer: string;
    model: string;
    firmware: string;
    /** null where the token does not say (CK_UNAVAILABLE_INFORMATION) or has no limit. */
    sessions: {
      open: number | null;
      max: number | null;
      readWrite: number | null;
      maxReadWrite: number | null;
    };
  };
  profile: { name: string; source: string; cannot: string[] };
  mechanisms: MechanismReport[];
  /** Number of mechanisms the token lists in all. */
  mechanismCount: number;
}

const version = (v: pkcs11js.Version) => `${v.major}.${v.minor}`;
/** CK_UNAVAILABLE_INFORMATION and CK_EFFECTIVELY_INFINITE are reported as null. */
const count = (n: number) => (n > 0xffffffff - 1 || n === 0 ? null : n);

/** CK_UNAVAILABLE_INFORMATION as null. */
const known = (n: number) => (n >= 0xffffffff ? null : n);

function ecFlags(flags: number): string[] {
  const out: string[] = [];
  if (flags & CKF_EC_F_P) out.push('prime-field');
  if (flags & CKF_EC_NAMEDCURVE) out.push('named-curve');
  if (flags & CKF_EC_UNCOMPRESS) out.push('uncompressed');
  if (flags & CKF_EC_COMPRESS) out.push('compressed');
  return out;
}

/** Describes the module of `config` and its token (chosen as Hsm.open would). */
export function describeHsm(config: HsmConfig): HsmReport {
  const lease = acquireModule(config.module);
  const pkcs11 = lease.pkcs11;
  try {
    const library = call('C_GetInfo', () => pkcs11.C_GetInfo());
    const slots = call('C_GetSlotList', () => pkcs11.C_GetSlotList(false)).map((slot) => {
      const info = call('C_GetSlotInfo', () => pkcs11.C_GetSlotInfo(slot));
      const entry: HsmReport['slots'][number] = {
        id: slotNumber(slot),
        description: trimLabel(info.slotDescription),
      };
      if (info.flags & CKF_TOKEN_PRESENT) {
        const token = call('C_GetTokenInfo', () => pkcs11.C_GetTokenInfo(slot));
        entry.token = {
          label: trimLabel(token.label),
          serial: trimLabel(token.serialNumber),
          model: trimLabel(token.model),
        };
      }
      return entry;
    });
    const slot = findSlot(pkcs11, config);
    const token = call('C_GetTokenInfo', () => pkcs11.C_GetTokenInfo(slot));
    const profile = resolveProfile(pkcs11, slot, config);
    const offered = new Set(call('C_GetMechanismList', () => pkcs11.C_GetMechanismList(slot)));
    const mechanisms = USED.map(([mechanism, name, use]): MechanismReport => {
      if (!offered.has(mechanism)) return { name, use, offered: false };
      const info = call('C_GetMechanismInfo', () => pkcs11.C_GetMechanismInfo(slot, mechanism));
      const report: MechanismReport = {
        name,
        use,
        offered: true,
        minKeySize: info.minKeySize,
        maxKeySize: info.maxKeySize,
      };
      const flags = ecFlags(info.flags);
      if (flags.length > 0) report.ecFlags = flags;
      return report;
    });
    return {
      module: config.module,
      library: {
        manufacturer: trimLabel(library.manufacturerID),
        description: trimLabel(library.libraryDescription),
        version: version(library.libraryVersion),
        cryptoki: version(library.cryptokiVersion),
      },
      slots,
      token: {
        slot: slotNumber(slot),
        label: trimLabel(token.label),
        serial: trimLabel(token.serialNumber),
        manufacturer: trimLabel(token.manufacturerID),
        model: trimLabel(token.model),
        firmware: version(token.firmwareVersion),
        sessions: {
          open: known(token.sessionCount),
          max: count(token.maxSessionCount),
          readWrite: known(token.rwSessionCount),
          maxReadWrite: count(token.maxRwSessionCount),
        },
      },
      profile: { name: profile.name, source: profile.source, cannot: profile.limits() },
      mechanisms,
      mechanismCount: offered.size,
    };
  } finally {
    lease.release();
  }
}
