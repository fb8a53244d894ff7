/**
 * The audit ports over an HSM: a dedicated secp256k1 key labelled "coldsign-audit" generated on the
 * token (sensitive, non-extractable) signs checkpoints, and a private token data object holds the
 * pinned checkpoint (PKCS#11 CKO_DATA, readable and writable only after C_Login as the user).
 * Structural types only, so that the CLI, the desktop app and tests share it with any HSM object.
 */
import { makeError } from '../core/errors.js';
import type { DigestSigner } from '../core/signer.js';
import { concatBytes } from '../core/bytes.js';
import type { AuditPorts } from './audit.js';

export const AUDIT_KEY_LABEL = 'coldsign-audit';
export const AUDIT_PIN_LABEL = 'coldsign-audit-checkpoint';

export interface AuditHsm {
  keys: {
    list(): Promise<Array<{ label: string; keyId: string; publicKey: Uint8Array }>>;
    generate(label: string): Promise<{ label: string; keyId: string; publicKey: Uint8Array }>;
    readAllData(label: string): Promise<Uint8Array[]>;
    writeData(label: string, value: Uint8Array): Promise<void>;
  };
  signer: DigestSigner;
}

/**
 * Finds the audit key on the token (generating it when `create` is set, i.e. at init) and returns
 * the checkpoint signer and pin store. HSM_KEY_NOT_FOUND when the key is absent and not created.
 */
export async function hsmAuditPorts(
  hsm: AuditHsm,
  options: { create?: boolean; pinLabel?: string } = {},
): Promise<AuditPorts> {
  const pinLabel = options.pinLabel ?? AUDIT_PIN_LABEL;
  const found = (await hsm.keys.list()).filter((key) => key.label === AUDIT_KEY_LABEL);
  if (found.length > 1) {
    throw makeError(
      'HSM_ERROR',
      `The HSM holds ${found.length} keys labelled "${AUDIT_KEY_LABEL}"; exactly one is expected.`,
    );
  }
  let key = found[0];
  if (!key) {
    if (!options.create) {
      throw makeError(
        'HSM_KEY_NOT_FOUND',
        `The HSM has no audit key "${AUDIT_KEY_LABEL}"; was the appliance initialized?`,
      );
    }
    key = await hsm.keys.generate(AUDIT_KEY_LABEL);
  }
  const { keyId, publicKey } = key;
  return {
    signer: {
      publicKey,
      sign: async (digest) => {
        const signature = await hsm.signer.signDigest(keyId, publicKey, digest);
        return concatBytes(signature.r, signature.s);
      },
    },
    pins: {
      read: () => hsm.keys.readAllData(pinLabel),
      write: (value) => hsm.keys.writeData(pinLabel, value),
    },
  };
}
