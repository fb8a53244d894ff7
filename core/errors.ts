/**
 * One error type with stable codes (modelled on ethers v6 makeError/assert/isError).
 * Tests, the CLI and the audit log match on `code`, never on message text.
 * `info` must never hold key material, PINs or passphrases.
 */

/** Exit-code families of SPEC.md. */
export type ErrorFamily = 'internal' | 'usage' | 'input' | 'policy' | 'hsm' | 'integrity' | 'home';

export const EXIT_CODES: Record<ErrorFamily, number> = {
  internal: 1,
  usage: 2,
  input: 3,
  policy: 4,
  hsm: 5,
  integrity: 6,
  /** The home cannot be used right now: busy, read-only, disk full, I/O error (SPEC additions). */
  home: 7,
};

/** The closed list of codes, each with its family. Add new codes in the section of their module. */
export const ERROR_CODES = {
  // general
  INTERNAL: 'internal',
  USAGE: 'usage',
  CONFIG_INVALID: 'usage',
  HOME_NOT_INITIALIZED: 'usage',
  HOME_ALREADY_INITIALIZED: 'usage',
  INPUT_NOT_FOUND: 'input',
  INPUT_EMPTY: 'input',
  INPUT_TOO_LARGE: 'input',
  INPUT_UNRECOGNIZED: 'input',
  REQUEST_INVALID: 'input',
  KEY_NOT_FOUND: 'input',
  KEY_LABEL_TAKEN: 'input',
  KEY_CHAIN_MISMATCH: 'input',
  OUTPUT_EXISTS: 'usage',
  OUTPUT_INSIDE_HOME: 'usage',
  HOME_NOT_FOUND: 'usage',
  JSON_DUPLICATE_KEY: 'input',
  // the home cannot be used right now (store/, cli/): exit 7
  HOME_BUSY: 'home',
  HOME_READ_ONLY: 'home',
  HOME_DISK_FULL: 'home',
  HOME_IO_ERROR: 'home',
  HOME_MISMATCH: 'integrity',
  HSM_TOKEN_IN_USE: 'usage',
  // bitcoin (chains/btc)
  PSBT_INVALID: 'input',
  PSBT_BAD_MAGIC: 'input',
  PSBT_TRUNCATED: 'input',
  PSBT_DUPLICATE_KEY: 'input',
  PSBT_TRAILING_BYTES: 'input',
  PSBT_INCONSISTENT: 'input',
  PSBT_VERSION_UNSUPPORTED: 'input',
  PSBT_NOTHING_TO_SIGN: 'input',
  PSBT_TAPROOT_UNSUPPORTED: 'input',
  PSBT_UTXO_MISSING: 'input',
  PSBT_UTXO_MISMATCH: 'input',
  PSBT_SIGHASH_UNSUPPORTED: 'input',
  PSBT_SCRIPT_UNSUPPORTED: 'input',
  PSBT_NETWORK_MISMATCH: 'input',
  PSBT_TX_TOO_LARGE: 'input',
  PSBT_SIGHASH_REFUSED: 'policy',
  PSBT_WALLET_UNREGISTERED: 'policy',
  // an outpoint already signed under one claimed amount or scriptPubKey, asked again under another (the outpoint ledger)
  PSBT_OUTPOINT_AMOUNT_CONFLICT: 'policy',
  // Bitcoin message signing requests (chains/btc/message-request.ts): BIP-322 and the legacy signed message
  BTC_MESSAGE_INVALID: 'input',
  BTC_MESSAGE_TOO_LARGE: 'input',
  BTC_MESSAGE_ADDRESS_NOT_OURS: 'input',
  BTC_MESSAGE_FORMAT_UNSUPPORTED: 'input',
  // registered wallets: export and import (appliance/wallet-export.ts, appliance/wallet-import.ts)
  WALLET_NOT_FOUND: 'input',
  WALLET_EXPORT_UNSUPPORTED: 'input',
  WALLET_IMPORT_INVALID: 'input',
  WALLET_NAME_TAKEN: 'input',
  WALLET_ALREADY_REGISTERED: 'input',
  // evm (chains/evm)
  EVM_TX_INVALID: 'input',
  EVM_TX_UNSUPPORTED: 'input',
  EVM_CHAIN_ID_MISSING: 'input',
  EVM_FROM_MISMATCH: 'input',
  EVM_MESSAGE_INVALID: 'input',
  EVM_TYPED_DATA_INVALID: 'input',
  EVM_ETH_SIGN_REFUSED: 'input',
  EVM_PUBLIC_KEY_INVALID: 'input',
  EVM_FROM_REQUIRED: 'input',
  EVM_SIGNATURE_INVALID: 'input',
  EVM_SAFE_INVALID: 'input',
  EVM_TYPED_DATA_TOO_LARGE: 'input',
  // an eth-sign-request names a path, fingerprint or address that is not one exported pairing (appliance/evm-pairing.ts)
  EVM_PAIRING_MISMATCH: 'input',
  EVM_PAIRING_UNAVAILABLE: 'usage',
  // qr / ur (qr/)
  QR_UNREADABLE: 'input',
  QR_IMAGE_INVALID: 'input',
  QR_CHECKSUM: 'input',
  QR_UNSUPPORTED_TYPE: 'input',
  QR_INCOMPLETE: 'input',
  QR_MIXED_TRANSFER: 'input',
  QR_PAYLOAD_TOO_LARGE: 'input',
  UR_INVALID: 'input',
  // an animated UR that keeps sending parts past a bounded multiple of its fragment count (BCR-2020-005 fountain)
  QR_FOUNTAIN_OVERRUN: 'input',
  // an output (`qr encode`, `sign --qr`, `--format ur`) that would need more animated-UR frames than a reader accepts
  QR_OUTPUT_TOO_LARGE: 'input',
  // an image whose header announces more pixels than the decoding budget
  QR_IMAGE_TOO_LARGE: 'input',
  QR_DECODER_INVALID: 'integrity',
  // policy and approvals (policy/)
  POLICY_DENIED: 'policy',
  POLICY_NOT_SET: 'policy',
  APPROVALS_MISSING: 'policy',
  POLICY_INVALID: 'input',
  APPROVAL_INVALID: 'input',
  APPROVAL_EXPIRED: 'policy',
  APPROVAL_STALE: 'policy',
  APPROVAL_WRONG_KEY: 'policy',
  OFFICER_KEY_INVALID: 'input',
  OFFICER_PASSPHRASE_INCORRECT: 'input',
  POLICY_SIGNATURE_INVALID: 'integrity',
  POLICY_QUORUM_MISSING: 'integrity',
  POLICY_VERSION_STALE: 'integrity',
  // a policy signed for another appliance, or for none (its `appliance` is not this audit public key)
  POLICY_APPLIANCE_MISMATCH: 'integrity',
  OFFICER_NAME_TAKEN: 'input',
  OFFICER_NOT_FOUND: 'input',
  QUORUM_INVALID: 'usage',
  OFFICER_PASSPHRASE_WEAK: 'usage',
  // hsm (hsm/)
  HSM_MODULE_NOT_FOUND: 'hsm',
  HSM_TOKEN_NOT_FOUND: 'hsm',
  HSM_PIN_REQUIRED: 'hsm',
  HSM_PIN_INCORRECT: 'hsm',
  HSM_PIN_LOCKED: 'hsm',
  HSM_MECHANISM_UNSUPPORTED: 'hsm',
  HSM_CURVE_UNSUPPORTED: 'hsm',
  HSM_SESSION_LOST: 'hsm',
  HSM_DEVICE_ERROR: 'hsm',
  HSM_THROTTLED: 'hsm',
  HSM_KEY_NOT_FOUND: 'hsm',
  HSM_SIGNATURE_INVALID: 'hsm',
  HSM_ERROR: 'hsm',
  HSM_PIN_FORMAT: 'usage',
  HSM_KEY_NOT_AVAILABLE: 'hsm',
  HSM_PROFILE_UNSUPPORTED: 'usage',
  // integrity (store/)
  AUDIT_TAMPERED: 'integrity',
  AUDIT_ROLLBACK: 'integrity',
  AUDIT_CHECKPOINT_INVALID: 'integrity',
  STATE_INCONSISTENT: 'integrity',
  CLOCK_BEHIND_LOG: 'integrity',
  STORE_CORRUPT: 'integrity',
  STORE_SCHEMA_UNSUPPORTED: 'integrity',
  AUDIT_EXPORT_INVALID: 'integrity',
  AUDIT_SECRET_REFUSED: 'internal',
  // re-anchor by an officer quorum (store/reanchor.ts)
  REANCHOR_INVALID: 'input',
  REANCHOR_NOT_NEEDED: 'usage',
  REANCHOR_EXPIRED: 'policy',
  REANCHOR_STALE: 'policy',
  REANCHOR_SIGNATURE_INVALID: 'integrity',
  REANCHOR_QUORUM_MISSING: 'integrity',
  // desktop app IPC (app/shared/ipc.ts): refused before the appliance is called
  IPC_ARGUMENTS_INVALID: 'usage',
  IPC_CHANNEL_UNKNOWN: 'usage',
  IPC_SENDER_REFUSED: 'usage',
} as const satisfies Record<string, ErrorFamily>;

export type ErrorCode = keyof typeof ERROR_CODES;

export type ErrorInfo = Record<string, string | number | boolean | null | undefined | string[] | number[]>;

export class ColdsignError extends Error {
  override readonly name = 'ColdsignError';
  readonly code: ErrorCode;
  readonly info: ErrorInfo;

  constructor(code: ErrorCode, message: string, info: ErrorInfo = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.info = info;
  }

  get family(): ErrorFamily {
    return ERROR_CODES[this.code];
  }

  get exitCode(): number {
    return EXIT_CODES[this.family];
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function makeError(
  code: ErrorCode,
  message: string,
  info?: ErrorInfo,
  cause?: unknown,
): ColdsignError {
  return new ColdsignError(code, message, info, cause === undefined ? undefined : { cause });
}

/** Throws a ColdsignError with `code` unless `condition` holds. */
export function assert(
  condition: unknown,
  code: ErrorCode,
  message: string,
  info?: ErrorInfo,
): asserts condition {
  if (!condition) throw makeError(code, message, info);
}

export function isColdsignError(error: unknown, code?: ErrorCode): error is ColdsignError {
  return error instanceof ColdsignError && (code === undefined || error.code === code);
}

/**
 * A storage failure (SQLite result codes of the SQLite "Result and Error Codes" list, or a file system errno)
 * as the exit-7 error that says what to do, or undefined for anything else. SQLITE_CORRUPT and
 * SQLITE_NOTADB are not here: they are integrity failures of the store (storeDamage, STORE_CORRUPT).
 */
export function storageFailure(error: unknown): ColdsignError | undefined {
  const code = errorCodeOf(error);
  if (code === undefined) return undefined;
  if (code.startsWith('SQLITE_FULL') || code === 'ENOSPC' || code === 'EDQUOT')
    return makeError(
      'HOME_DISK_FULL',
      'The disk is full: free some space and run the command again (the last completed step is kept).',
      {},
      error,
    );
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS')
    return makeError(
      'HOME_READ_ONLY',
      'The coldsign home is read-only: this command needs to write to it; make it writable (reading commands such as keys list, policy show and audit export work as it is).',
      {},
      error,
    );
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
    return makeError(
      'HOME_BUSY',
      'busy: another coldsign process is using this home; run the command again when it has finished.',
      {},
      error,
    );
  if (code.startsWith('SQLITE_IOERR') || code === 'EIO')
    return makeError(
      'HOME_IO_ERROR',
      'The disk reported an I/O error while coldsign used its home: check the disk, then run `coldsign audit verify`.',
      {},
      error,
    );
  return undefined;
}

/**
 * A damaged database met after it opened (a page SQLite finds malformed: SQLITE_CORRUPT and its extended codes,
 * SQLITE_NOTADB) as the integrity failure it is (exit 6), or undefined for anything else.
 */
export function storeDamage(error: unknown): ColdsignError | undefined {
  if (!isDamagedPage(error)) return undefined;
  return makeError(
    'STORE_CORRUPT',
    `The coldsign database is damaged (SQLite: ${error.message}): restore the home from a backup (\`coldsign backup\`), then run \`coldsign audit verify\`.`,
    {},
    error,
  );
}

/** SQLite's error for a damaged page (SQLITE_CORRUPT and its extended codes, SQLITE_NOTADB). */
function isDamagedPage(error: unknown): error is Error {
  const code = errorCodeOf(error);
  return code !== undefined && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

/** The string code an Error carries (SQLite's result code name, a file system errno name), if any. */
export function errorCodeOf(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** Whether a thrown value reports a damaged store: SQLite's own error for a damaged page, or STORE_CORRUPT. */
export function isStoreDamage(error: unknown): boolean {
  return isDamagedPage(error) || isColdsignError(error, 'STORE_CORRUPT');
}

/** A store error as the ColdsignError it is (a storage failure, exit 7, or a damaged page, exit 6), or undefined. */
export function storeErrorOf(error: unknown): ColdsignError | undefined {
  return storageFailure(error) ?? storeDamage(error);
}

/** Any thrown value as a ColdsignError: unknown errors become INTERNAL (exit 1) with a generic message. */
export function toColdsignError(error: unknown): ColdsignError {
  if (error instanceof ColdsignError) return error;
  const storage = storeErrorOf(error);
  if (storage) return storage;
  const detail = error instanceof Error ? error.message : String(error);
  return makeError('INTERNAL', `Internal error: ${detail}.`, {}, error);
}
