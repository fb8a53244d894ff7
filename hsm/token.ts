/** Finds a token by label, serial or slot id and checks that it offers what coldsign needs (secp256k1 ECDSA, HMAC anchors). */
import pkcs11js from './pkcs11js.js';
import { makeError } from '../core/errors.js';
import { call } from './pkcs11-errors.js';

/** PKCS#11 §3.2: token labels are blank-padded to 32 bytes (some libraries pad with NUL). */
export function trimLabel(label: string): string {
  return label.replace(/[\s\0]+$/, '');
}

/** How the token is chosen: by slot id (CloudHSM: one slot per configured cluster), serial or label. */
export interface SlotSelector {
  token: string;
  slot?: number;
  serial?: string;
}

/** The slot matching every given selector (slot id, serial, label); HSM_TOKEN_NOT_FOUND naming what is present. */
export function findSlot(pkcs11: pkcs11js.PKCS11, selector: SlotSelector): Buffer {
  if (selector.slot === undefined && selector.serial === undefined)
    return findSlotByLabel(pkcs11, selector.token);
  const slots = call('C_GetSlotList', () => pkcs11.C_GetSlotList(true));
  const present: string[] = [];
  for (const slot of slots) {
    const info = call('C_GetTokenInfo', () => pkcs11.C_GetTokenInfo(slot));
    const id = slotNumber(slot);
    const serial = trimLabel(info.serialNumber);
    present.push(`slot ${id} serial ${serial} "${trimLabel(info.label)}"`);
    if (selector.slot !== undefined && id !== selector.slot) continue;
    if (selector.serial !== undefined && serial !== selector.serial) continue;
    if ((info.flags & pkcs11js.CKF_TOKEN_INITIALIZED) === 0) continue;
    return slot;
  }
  const wanted = [
    selector.slot !== undefined ? `slot ${selector.slot}` : '',
    selector.serial !== undefined ? `serial ${selector.serial}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  throw makeError(
    'HSM_TOKEN_NOT_FOUND',
    `No initialized HSM token matches ${wanted} (${present.length ? present.join('; ') : 'no token is present'}).`,
    { token: selector.token },
  );
}

/** The numeric slot id of a pkcs11js slot handle (a little-endian CK_SLOT_ID). */
export function slotNumber(slot: Buffer): number {
  return slot.length >= 8 ? Number(slot.readBigUInt64LE(0)) : slot.readUInt32LE(0);
}

export function findSlotByLabel(pkcs11: pkcs11js.PKCS11, label: string): Buffer {
  const slots = call('C_GetSlotList', () => pkcs11.C_GetSlotList(true));
  const labels: string[] = [];
  for (const slot of slots) {
    const info = call('C_GetTokenInfo', () => pkcs11.C_GetTokenInfo(slot));
    const tokenLabel = trimLabel(info.label);
    if (tokenLabel === label && (info.flags & pkcs11js.CKF_TOKEN_INITIALIZED) !== 0) return slot;
    if (tokenLabel) labels.push(tokenLabel);
  }
  const known = labels.length
    ? ` (tokens present: ${labels.join(', ')})`
    : ' (no initialized token is present)';
  throw makeError('HSM_TOKEN_NOT_FOUND', `No HSM token labelled "${label}" was found${known}.`, {
    token: label,
  });
}

/** Checks CKM_EC_KEY_PAIR_GEN and CKM_ECDSA with 256-bit keys; the curve itself is checked at key generation. */
export function checkMechanisms(pkcs11: pkcs11js.PKCS11, slot: Buffer): void {
  const mechanisms = new Set(call('C_GetMechanismList', () => pkcs11.C_GetMechanismList(slot)));
  const required: Array<[number, string, number]> = [
    [pkcs11js.CKM_EC_KEY_PAIR_GEN, 'CKM_EC_KEY_PAIR_GEN', pkcs11js.CKF_GENERATE_KEY_PAIR],
    [pkcs11js.CKM_ECDSA, 'CKM_ECDSA', pkcs11js.CKF_SIGN],
  ];
  for (const [mechanism, name, flag] of required) {
    if (!mechanisms.has(mechanism)) {
      throw makeError(
        'HSM_MECHANISM_UNSUPPORTED',
        `The HSM token does not offer ${name}, which coldsign needs for secp256k1 keys.`,
        { mechanism: name },
      );
    }
    const info = call('C_GetMechanismInfo', () => pkcs11.C_GetMechanismInfo(slot, mechanism));
    if ((info.flags & flag) === 0 || info.maxKeySize < 256 || info.minKeySize > 256) {
      throw makeError('HSM_MECHANISM_UNSUPPORTED', `The HSM token offers ${name} but not for 256-bit keys.`, {
        mechanism: name,
      });
    }
  }
}

/** The audit anchor's mechanisms: generic-secret key generation and HMAC-SHA-256 (docs/hsm.md, "The audit anchor"). */
export function checkAnchorMechanisms(pkcs11: pkcs11js.PKCS11, slot: Buffer): void {
  const mechanisms = new Set(call('C_GetMechanismList', () => pkcs11.C_GetMechanismList(slot)));
  const required: Array<[number, string]> = [
    [pkcs11js.CKM_GENERIC_SECRET_KEY_GEN, 'CKM_GENERIC_SECRET_KEY_GEN'],
    [pkcs11js.CKM_SHA256_HMAC, 'CKM_SHA256_HMAC'],
  ];
  for (const [mechanism, name] of required) {
    if (!mechanisms.has(mechanism)) {
      throw makeError(
        'HSM_MECHANISM_UNSUPPORTED',
        `The HSM token does not offer ${name}, which the audit anchor needs (docs/hsm.md).`,
        { mechanism: name },
      );
    }
  }
}
