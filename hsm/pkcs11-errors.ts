/** Maps PKCS#11 return values (CKR_*) to ColdsignError codes, naming the PKCS#11 method (PKCS#11 v2.40 §5.1). */
import pkcs11js from './pkcs11js.js';
import { makeError, type ColdsignError, type ErrorCode, isColdsignError } from '../core/errors.js';

/** PKCS#11 v2.40 §11.1 values that pkcs11js does not export. */
const CKR_CURVE_NOT_SUPPORTED = 0x140;

const CKR_NAMES = new Map<number, string>([[CKR_CURVE_NOT_SUPPORTED, 'CKR_CURVE_NOT_SUPPORTED']]);
for (const [name, value] of Object.entries(pkcs11js)) {
  if (name.startsWith('CKR_') && typeof value === 'number' && !CKR_NAMES.has(value))
    CKR_NAMES.set(value, name);
}

export function ckrName(code: number): string {
  return CKR_NAMES.get(code) ?? `0x${code.toString(16).padStart(8, '0')}`;
}

const CODE_BY_CKR: Array<[number, ErrorCode, string]> = [
  [
    pkcs11js.CKR_PIN_INCORRECT,
    'HSM_PIN_INCORRECT',
    'The HSM rejected the PIN; it was not retried (check the PIN before trying again, the token locks after repeated failures).',
  ],
  [
    pkcs11js.CKR_PIN_LOCKED,
    'HSM_PIN_LOCKED',
    'The HSM user PIN is locked after too many failed attempts; the security officer must unlock it.',
  ],
  [pkcs11js.CKR_PIN_LEN_RANGE, 'HSM_PIN_INCORRECT', 'The HSM rejected the PIN because of its length.'],
  [
    pkcs11js.CKR_PIN_EXPIRED,
    'HSM_PIN_LOCKED',
    'The HSM user PIN has expired; the security officer must set a new one.',
  ],
  [pkcs11js.CKR_TOKEN_NOT_PRESENT, 'HSM_TOKEN_NOT_FOUND', 'The HSM token is not present.'],
  [pkcs11js.CKR_TOKEN_NOT_RECOGNIZED, 'HSM_TOKEN_NOT_FOUND', 'The HSM token is not recognized.'],
  [
    pkcs11js.CKR_MECHANISM_INVALID,
    'HSM_MECHANISM_UNSUPPORTED',
    'The HSM does not support the requested mechanism.',
  ],
  [CKR_CURVE_NOT_SUPPORTED, 'HSM_CURVE_UNSUPPORTED', 'The HSM does not support the secp256k1 curve.'],
  [
    pkcs11js.CKR_DOMAIN_PARAMS_INVALID,
    'HSM_CURVE_UNSUPPORTED',
    'The HSM does not support the requested elliptic curve.',
  ],
  [
    pkcs11js.CKR_SESSION_HANDLE_INVALID,
    'HSM_SESSION_LOST',
    'The HSM session was closed underneath the appliance.',
  ],
  [pkcs11js.CKR_SESSION_CLOSED, 'HSM_SESSION_LOST', 'The HSM session was closed underneath the appliance.'],
  [pkcs11js.CKR_USER_NOT_LOGGED_IN, 'HSM_SESSION_LOST', 'The HSM session is no longer logged in.'],
  [pkcs11js.CKR_DEVICE_ERROR, 'HSM_DEVICE_ERROR', 'The HSM reported a device error.'],
  [pkcs11js.CKR_DEVICE_REMOVED, 'HSM_DEVICE_ERROR', 'The HSM device was removed.'],
  [pkcs11js.CKR_DEVICE_MEMORY, 'HSM_DEVICE_ERROR', 'The HSM is out of memory.'],
  [
    pkcs11js.CKR_FUNCTION_FAILED,
    'HSM_THROTTLED',
    'The HSM kept failing the request (CKR_FUNCTION_FAILED, as a throttled network HSM does).',
  ],
  [
    pkcs11js.CKR_OPERATION_ACTIVE,
    'HSM_THROTTLED',
    'The HSM reported an operation still active (CKR_OPERATION_ACTIVE, as a throttled network HSM does).',
  ],
  [pkcs11js.CKR_KEY_HANDLE_INVALID, 'HSM_KEY_NOT_FOUND', 'The HSM no longer has the key.'],
  [pkcs11js.CKR_OBJECT_HANDLE_INVALID, 'HSM_KEY_NOT_FOUND', 'The HSM no longer has the object.'],
];

/** The PKCS#11 return value carried by an error thrown by pkcs11js, if any. */
export function ckrOf(error: unknown): number | undefined {
  if (error instanceof pkcs11js.Pkcs11Error) return error.code;
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'number')
    return error.code;
  // pkcs11js async callbacks deliver plain errors whose message starts with the CKR name
  if (error instanceof Error) {
    const name = /^(CKR_[A-Z_]+)/.exec(error.message)?.[1];
    if (name && name in pkcs11js) return (pkcs11js as unknown as Record<string, number>)[name];
  }
  return undefined;
}

/** Converts anything thrown by a PKCS#11 call into a ColdsignError naming the method and CKR value. */
export function pkcs11Error(error: unknown, method: string): ColdsignError {
  if (isColdsignError(error)) return error;
  const ckr = ckrOf(error);
  if (ckr === undefined) {
    const detail = error instanceof Error ? error.message : String(error);
    return makeError('HSM_ERROR', `The PKCS#11 call ${method} failed: ${detail}.`, { method });
  }
  const known = CODE_BY_CKR.find(([value]) => value === ckr);
  const name = ckrName(ckr);
  if (known)
    return makeError(
      known[1],
      `${known[2].replace(/\.$/, '')} (${method}: ${name}).`,
      { method, ckr: name },
      error,
    );
  return makeError('HSM_ERROR', `The HSM refused ${method} with ${name}.`, { method, ckr: name }, error);
}

/** Runs a synchronous PKCS#11 call, mapping failures. */
export function call<T>(method: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw pkcs11Error(error, method);
  }
}
