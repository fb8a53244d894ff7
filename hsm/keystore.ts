/**
 * Key objects inside the HSM: secp256k1 key pairs generated on the token as private, sensitive,
 * non-extractable, sign-only objects with a random CKA_ID fixed at creation (no C_SetAttributeValue,
 * which CloudHSM refuses); their public keys; and the legacy checkpoint data objects (read for migration).
 */
import pkcs11js from './pkcs11js.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from 'node:crypto';
import { makeError } from '../core/errors.js';
import { compressPublicKey } from '../core/signature.js';
import { bytesToHex, decodeEcPoint, hexToBytes, SECP256K1_EC_PARAMS } from './ec-point.js';
import type { SessionPool } from './session-pool.js';
import { ckrName, ckrOf } from './pkcs11-errors.js';
import type { HsmProfile } from './profile.js';

export interface HsmKey {
  label: string;
  /** Hex CKA_ID. */
  keyId: string;
  /** Uncompressed SEC1 public key (65 bytes). */
  publicKey: Uint8Array;
}

export interface PrivateKeyProtection {
  sensitive: boolean;
  extractable: boolean;
  alwaysSensitive: boolean;
  neverExtractable: boolean;
  sign: boolean;
  decrypt: boolean;
  derive: boolean;
}

const DATA_APPLICATION = 'coldsign';

/** PKCS#11 results of C_GenerateKeyPair that mean the curve in CKA_EC_PARAMS is not supported. */
const CURVE_FAILURES = [
  pkcs11js.CKR_ATTRIBUTE_VALUE_INVALID,
  pkcs11js.CKR_TEMPLATE_INCONSISTENT,
  pkcs11js.CKR_DOMAIN_PARAMS_INVALID,
  pkcs11js.CKR_GENERAL_ERROR,
  0x140, // CKR_CURVE_NOT_SUPPORTED
];

/** CKA_ID of keys made before CKA_ID became random: the first 20 bytes of SHA-256 of the compressed public key. */
export function keyIdFor(publicKey: Uint8Array): string {
  return bytesToHex(sha256(compressPublicKey(publicKey)).slice(0, 20));
}

/** Bytes of a key pair's CKA_ID: random, so unique in a cluster with overwhelming probability. */
const KEY_ID_BYTES = 20;

export class HsmKeyStore {
  private readonly handles = new Map<string, Buffer>();

  constructor(
    private readonly pkcs11: pkcs11js.PKCS11,
    private readonly pool: SessionPool,
    private readonly profile: HsmProfile,
  ) {}

  /** Generates a secp256k1 key pair on the token (ecParams overrides the curve, for tests of unsupported curves). */
  async generate(label: string, ecParams: Uint8Array = SECP256K1_EC_PARAMS): Promise<HsmKey> {
    if (!label || Buffer.byteLength(label) > 64)
      throw makeError('USAGE', 'A key label must have 1 to 64 bytes.');
    return this.pool.run('C_GenerateKeyPair', (session) => {
      const keyIdBytes = randomBytes(KEY_ID_BYTES);
      const common = [
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_LABEL, value: label },
        { type: pkcs11js.CKA_ID, value: keyIdBytes },
      ];
      const publicTemplate = [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
        ...common,
        { type: pkcs11js.CKA_PRIVATE, value: false },
        { type: pkcs11js.CKA_VERIFY, value: true },
        { type: pkcs11js.CKA_EC_PARAMS, value: Buffer.from(ecParams) },
      ];
      const privateTemplate = [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        ...common,
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        { type: pkcs11js.CKA_SIGN, value: true },
        { type: pkcs11js.CKA_DECRYPT, value: false },
        { type: pkcs11js.CKA_DERIVE, value: false },
        { type: pkcs11js.CKA_UNWRAP, value: false },
      ];
      let keys: pkcs11js.KeyPair;
      try {
        keys = this.pkcs11.C_GenerateKeyPair(
          session,
          { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN },
          publicTemplate,
          privateTemplate,
        );
      } catch (error) {
        // Only CKA_EC_PARAMS varies between calls, so these failures mean the curve is not supported
        // (SoftHSM2 answers CKR_GENERAL_ERROR when OpenSSL lacks the curve).
        const ckr = ckrOf(error);
        if (ckr !== undefined && CURVE_FAILURES.includes(ckr)) {
          throw makeError(
            'HSM_CURVE_UNSUPPORTED',
            `The HSM cannot generate keys on the requested curve (secp256k1 is required; C_GenerateKeyPair: ${ckrName(ckr)}).`,
          );
        }
        throw error;
      }
      const point = this.pkcs11.C_GetAttributeValue(session, keys.publicKey, [
        { type: pkcs11js.CKA_EC_POINT },
      ])[0]?.value as Buffer;
      const publicKey = decodeEcPoint(point);
      const keyId = bytesToHex(keyIdBytes);
      this.handles.set(keyId, keys.privateKey);
      return { label, keyId, publicKey };
    });
  }

  /** Every EC key pair on the token, found by its private key and matched to its public key by CKA_ID. */
  async list(): Promise<HsmKey[]> {
    return this.pool.run('C_FindObjects', (session) => {
      const keys: HsmKey[] = [];
      for (const handle of this.find(session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
      ])) {
        const [id, label, point] = this.pkcs11.C_GetAttributeValue(session, handle, [
          { type: pkcs11js.CKA_ID },
          { type: pkcs11js.CKA_LABEL },
          { type: pkcs11js.CKA_EC_POINT },
        ]);
        const keyId = bytesToHex(id?.value as Buffer);
        if (this.findPrivate(session, keyId) === undefined) continue;
        try {
          keys.push({
            label: String(label?.value ?? ''),
            keyId,
            publicKey: decodeEcPoint(point?.value as Buffer),
          });
        } catch {
          // an EC key on another curve is not ours
        }
      }
      return keys;
    });
  }

  /** The public key of `keyId`, read from the token. */
  async publicKey(keyId: string): Promise<Uint8Array> {
    const key = (await this.list()).find((k) => k.keyId === keyId);
    if (!key) throw makeError('HSM_KEY_NOT_FOUND', `The HSM has no key with id ${keyId}.`, { keyId });
    return key.publicKey;
  }

  /** The handle found earlier for `keyId`, if any (no HSM call; the sign workers' fast path). */
  cachedPrivateKeyHandle(keyId: string): Buffer | undefined {
    return this.handles.get(keyId);
  }

  /** Handle of the private key `keyId` (cached; object handles are valid across the application's sessions). */
  privateKeyHandle(session: Buffer, keyId: string, refresh = false): Buffer {
    const cached = refresh ? undefined : this.handles.get(keyId);
    if (cached) return cached;
    const handle = this.findPrivate(session, keyId);
    if (!handle)
      throw makeError('HSM_KEY_NOT_FOUND', `The HSM has no private key with id ${keyId}.`, { keyId });
    this.handles.set(keyId, handle);
    return handle;
  }

  /** Protection attributes of the private key (for audits and tests). */
  async protection(keyId: string): Promise<PrivateKeyProtection> {
    return this.pool.run('C_GetAttributeValue', (session) => {
      const handle = this.privateKeyHandle(session, keyId, true);
      const types = [
        pkcs11js.CKA_SENSITIVE,
        pkcs11js.CKA_EXTRACTABLE,
        pkcs11js.CKA_ALWAYS_SENSITIVE,
        pkcs11js.CKA_NEVER_EXTRACTABLE,
        pkcs11js.CKA_SIGN,
        pkcs11js.CKA_DECRYPT,
        pkcs11js.CKA_DERIVE,
      ];
      const values = this.pkcs11.C_GetAttributeValue(
        session,
        handle,
        types.map((type) => ({ type })),
      );
      const flag = (i: number): boolean => {
        const value = values[i]?.value;
        return Buffer.isBuffer(value) ? value[0] === 1 : Boolean(value);
      };
      return {
        sensitive: flag(0),
        extractable: flag(1),
        alwaysSensitive: flag(2),
        neverExtractable: flag(3),
        sign: flag(4),
        decrypt: flag(5),
        derive: flag(6),
      };
    });
  }

  /** Reads a private data object (CKO_DATA) of coldsign by label, or undefined (the first found, see readAllData). */
  async readData(label: string): Promise<Uint8Array | undefined> {
    return (await this.readAllData(label))[0];
  }

  /**
   * Every private data object of coldsign with this label: normally one, two when the process died
   * between the create and the destroy of writeData (the caller's value must tell which is newer).
   */
  async readAllData(label: string): Promise<Uint8Array[]> {
    // Profiles without data objects (CloudHSM) never had a data-object pin to migrate.
    if (!this.profile.facts.dataObjects) return [];
    return this.pool.run('C_GetAttributeValue', (session) =>
      this.findData(session, label).map((handle) => {
        const value = this.pkcs11.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_VALUE }])[0]
          ?.value;
        return value ? new Uint8Array(value as Buffer) : new Uint8Array();
      }),
    );
  }

  /**
   * Creates or replaces a private token data object (CKO_DATA) of coldsign. SoftHSM2 treats CKA_VALUE
   * of a data object as read-only once created, so a new object is created first and the old ones
   * destroyed after it (a crash in between leaves both, never none).
   */
  async writeData(label: string, value: Uint8Array): Promise<void> {
    if (!this.profile.facts.dataObjects)
      throw makeError(
        'HSM_PROFILE_UNSUPPORTED',
        `The ${this.profile.name} profile offers no PKCS#11 data objects; coldsign does not create one there.`,
      );
    await this.pool.run('C_CreateObject', (session) => {
      const existing = this.findData(session, label);
      this.pkcs11.C_CreateObject(session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_DATA },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_MODIFIABLE, value: true },
        { type: pkcs11js.CKA_APPLICATION, value: DATA_APPLICATION },
        { type: pkcs11js.CKA_LABEL, value: label },
        { type: pkcs11js.CKA_VALUE, value: Buffer.from(value) },
      ]);
      for (const handle of existing) this.pkcs11.C_DestroyObject(session, handle);
    });
  }

  private findPrivate(session: Buffer, keyId: string): Buffer | undefined {
    return this.find(session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_ID, value: Buffer.from(hexToBytes(keyId)) },
    ])[0];
  }

  /** Destroys every legacy data object of coldsign with this label (after migrating to the key anchor). */
  async destroyData(label: string): Promise<number> {
    if (!this.profile.facts.dataObjects) return 0;
    return this.pool.run('C_DestroyObject', (session) => {
      const found = this.findData(session, label);
      for (const handle of found) this.pkcs11.C_DestroyObject(session, handle);
      return found.length;
    });
  }

  private findData(session: Buffer, label: string): Buffer[] {
    return this.find(session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_DATA },
      { type: pkcs11js.CKA_APPLICATION, value: DATA_APPLICATION },
      { type: pkcs11js.CKA_LABEL, value: label },
    ]);
  }

  private find(session: Buffer, template: pkcs11js.Template): Buffer[] {
    this.pkcs11.C_FindObjectsInit(session, template);
    try {
      return this.pkcs11.C_FindObjects(session, 1000);
    } finally {
      this.pkcs11.C_FindObjectsFinal(session);
    }
  }
}
