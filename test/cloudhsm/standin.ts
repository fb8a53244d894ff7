/**
 * A CloudHSM stand-in for tests only: wraps the pkcs11js object of a SoftHSM2 token and enforces the limits
 * AWS documents for the CloudHSM Client SDK 5 PKCS#11 library (docs/hsm.md): no data objects, no
 * C_SetAttributeValue, no read-only sessions, no empty labels, CKA_ID unique per object class, a PIN
 * `<crypto-user>:<password>`, a shared login; and, on demand, keys not yet available after generation
 * and throttling. It is not CloudHSM: it only refuses what CloudHSM refuses and forwards the rest.
 */
import pkcs11js from 'pkcs11js';

type Template = pkcs11js.Template;

export interface StandinCounters {
  /** Attempts to create a CKO_DATA object (refused). */
  dataObjectAttempts: number;
  /** Attempts to call C_SetAttributeValue (refused). */
  setAttributeAttempts: number;
  /** C_Login calls that reached the token. */
  logins: number;
  /** Calls failed on purpose (throttling, key availability). */
  injected: number;
}

export interface StandinControl {
  counters: StandinCounters;
  /** The next `count` uses of a key generated from now on fail as not yet available (CKR_KEY_HANDLE_INVALID). */
  keyNotYetAvailable(count: number): void;
  /** The next `count` calls of `method` fail with `ckr` (CKR_FUNCTION_FAILED or CKR_OPERATION_ACTIVE). */
  throttle(method: 'C_SignAsync' | 'C_Sign' | 'C_SignInit', ckr: number, count: number): void;
}

function fail(ckr: number, method: string): never {
  const name = Object.entries(pkcs11js).find(([k, v]) => k.startsWith('CKR_') && v === ckr)?.[0];
  throw new pkcs11js.Pkcs11Error(`${name ?? ckr}`, ckr, method);
}

function attribute(template: Template, type: number): Template[number] | undefined {
  return template.find((a) => a.type === type);
}

function checkLabel(template: Template, method: string): void {
  const label = attribute(template, pkcs11js.CKA_LABEL);
  if (label && (label.value === '' || (Buffer.isBuffer(label.value) && label.value.length === 0)))
    fail(pkcs11js.CKR_ATTRIBUTE_VALUE_INVALID, method);
}

const STANDIN_DESCRIPTION = 'CloudHSM stand-in';

/** Wraps `native` (already a pkcs11js.PKCS11) into the stand-in; `control` gives the counters and injections. */
export function cloudHsmStandin(native: pkcs11js.PKCS11): {
  pkcs11: pkcs11js.PKCS11;
  control: StandinControl;
} {
  const counters: StandinCounters = {
    dataObjectAttempts: 0,
    setAttributeAttempts: 0,
    logins: 0,
    injected: 0,
  };
  let unavailableUses = 0;
  const pendingNewKeys = new Set<string>();
  const throttles = new Map<string, { ckr: number; count: number }>();

  const maybeThrottle = (method: string) => {
    const t = throttles.get(method);
    if (t && t.count > 0) {
      t.count -= 1;
      counters.injected += 1;
      fail(t.ckr, method);
    }
  };
  const maybeUnavailable = (key: Buffer, method: string) => {
    if (pendingNewKeys.has(key.toString('hex')) && unavailableUses > 0) {
      unavailableUses -= 1;
      counters.injected += 1;
      fail(pkcs11js.CKR_KEY_HANDLE_INVALID, method);
    }
  };
  /** CKA_ID is unique in a CloudHSM cluster (per object class: a key pair's halves share it). */
  const checkUniqueId = (session: Buffer, template: Template, method: string) => {
    const id = attribute(template, pkcs11js.CKA_ID);
    const cls = attribute(template, pkcs11js.CKA_CLASS);
    if (!id || cls === undefined) return;
    native.C_FindObjectsInit(session, [cls, id]);
    try {
      if (native.C_FindObjects(session, 1).length > 0) fail(pkcs11js.CKR_TEMPLATE_INCONSISTENT, method);
    } finally {
      native.C_FindObjectsFinal(session);
    }
  };

  const overrides: Partial<Record<keyof pkcs11js.PKCS11, unknown>> = {
    C_GetInfo: () => ({
      ...native.C_GetInfo(),
      manufacturerID: 'Stand-in',
      libraryDescription: STANDIN_DESCRIPTION,
    }),
    C_GetTokenInfo: (slot: Buffer) => ({
      ...native.C_GetTokenInfo(slot),
      manufacturerID: 'Stand-in',
      model: STANDIN_DESCRIPTION,
    }),
    C_OpenSession: (slot: Buffer, flags: number) => {
      // SDK 5 has no read-only sessions: CKR_FUNCTION_FAILED without CKF_RW_SESSION.
      if ((flags & pkcs11js.CKF_RW_SESSION) === 0) fail(pkcs11js.CKR_FUNCTION_FAILED, 'C_OpenSession');
      return native.C_OpenSession(slot, flags);
    },
    C_Login: (session: Buffer, userType: number, pin: string) => {
      const match = /^([^:]+):(.+)$/s.exec(pin ?? '');
      if (!match) fail(pkcs11js.CKR_PIN_INCORRECT, 'C_Login');
      counters.logins += 1;
      return native.C_Login(session, userType, match[2]!);
    },
    C_CreateObject: (session: Buffer, template: Template) => {
      const cls = attribute(template, pkcs11js.CKA_CLASS)?.value;
      if (cls === pkcs11js.CKO_DATA) {
        counters.dataObjectAttempts += 1;
        fail(pkcs11js.CKR_TEMPLATE_INCONSISTENT, 'C_CreateObject');
      }
      checkLabel(template, 'C_CreateObject');
      checkUniqueId(session, template, 'C_CreateObject');
      return native.C_CreateObject(session, template);
    },
    C_SetAttributeValue: () => {
      counters.setAttributeAttempts += 1;
      fail(pkcs11js.CKR_FUNCTION_NOT_SUPPORTED, 'C_SetAttributeValue');
    },
    C_GenerateKey: (session: Buffer, mechanism: pkcs11js.Mechanism, template: Template) => {
      checkLabel(template, 'C_GenerateKey');
      checkUniqueId(session, template, 'C_GenerateKey');
      const key = native.C_GenerateKey(session, mechanism, template);
      pendingNewKeys.add(key.toString('hex'));
      return key;
    },
    C_GenerateKeyAsync: async (session: Buffer, mechanism: pkcs11js.Mechanism, template: Template) => {
      checkLabel(template, 'C_GenerateKey');
      checkUniqueId(session, template, 'C_GenerateKey');
      const key = await native.C_GenerateKeyAsync(session, mechanism, template);
      pendingNewKeys.add(key.toString('hex'));
      return key;
    },
    C_GenerateKeyPair: (session: Buffer, mechanism: pkcs11js.Mechanism, pub: Template, priv: Template) => {
      checkLabel(pub, 'C_GenerateKeyPair');
      checkLabel(priv, 'C_GenerateKeyPair');
      checkUniqueId(session, pub, 'C_GenerateKeyPair');
      checkUniqueId(session, priv, 'C_GenerateKeyPair');
      const keys = native.C_GenerateKeyPair(session, mechanism, pub, priv);
      pendingNewKeys.add(keys.privateKey.toString('hex'));
      return keys;
    },
    C_SignInit: (session: Buffer, mechanism: pkcs11js.Mechanism, key: Buffer) => {
      maybeUnavailable(key, 'C_SignInit');
      maybeThrottle('C_SignInit');
      return native.C_SignInit(session, mechanism, key);
    },
    // PKCS#11 §5.12: a failed C_Sign ends the signing operation, so the injected failure ends it too.
    C_Sign: (session: Buffer, data: Buffer, out: Buffer) => {
      const result = native.C_Sign(session, data, out);
      maybeThrottle('C_Sign');
      return result;
    },
    C_SignAsync: async (session: Buffer, data: Buffer, out: Buffer) => {
      const result = await native.C_SignAsync(session, data, out);
      maybeThrottle('C_SignAsync');
      return result;
    },
  };

  const pkcs11 = new Proxy(native, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && prop in overrides) return overrides[prop as keyof pkcs11js.PKCS11];
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const control: StandinControl = {
    counters,
    keyNotYetAvailable: (count) => {
      pendingNewKeys.clear();
      unavailableUses = count;
    },
    throttle: (method, ckr, count) => throttles.set(method, { ckr, count }),
  };
  return { pkcs11, control };
}
