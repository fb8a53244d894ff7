/**
 * Anchor keys: HSM generic-secret keys used only to compute HMAC-SHA-256 (PKCS#11 v2.40 §2.15 generic
 * secret keys, §2.19 CKM_SHA256_HMAC). Each is a token key, private, sensitive and non-extractable,
 * with CKA_SIGN/CKA_VERIFY only, a fixed non-empty label and a CKA_ID fixed at creation (never changed:
 * no C_SetAttributeValue, no data objects), so the same objects work on every HSM profile.
 * docs/hsm.md ("The audit anchor") describes how store/audit-hsm.ts builds its ratchet on them.
 */
import pkcs11js from './pkcs11js.js';
import { makeError } from '../core/errors.js';
import { ckrName, ckrOf } from './pkcs11-errors.js';
import type { HsmProfile } from './profile.js';
import type { SessionPool } from './session-pool.js';

/** One anchor key found on the token. */
export interface AnchorKey {
  handle: Buffer;
  /** CKA_ID as stored. */
  id: Uint8Array;
}

/** HMAC-SHA-256 output length (RFC 4231). */
export const ANCHOR_MAC_BYTES = 32;

/** Label of the session key an anchor key is copied from (never an anchor's label). */
const PENDING_LABEL = 'coldsign-audit-anchor-pending';

/** Secret length of an anchor key: 32 bytes, the HMAC-SHA-256 block-size-safe key length. */
const ANCHOR_KEY_BYTES = 32;

export class HsmAnchorKeys {
  constructor(
    private readonly pkcs11: pkcs11js.PKCS11,
    private readonly pool: SessionPool,
    private readonly profile: HsmProfile,
  ) {}

  /** Every generic-secret key with this label (anchors of every appliance sharing the token). */
  async list(label: string): Promise<AnchorKey[]> {
    return this.pool.run('C_FindObjects', (session) => {
      this.pkcs11.C_FindObjectsInit(session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
        { type: pkcs11js.CKA_LABEL, value: label },
      ]);
      let handles: Buffer[];
      try {
        handles = this.pkcs11.C_FindObjects(session, 1000);
      } finally {
        this.pkcs11.C_FindObjectsFinal(session);
      }
      return handles.map((handle) => {
        const id = this.pkcs11.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_ID }])[0]?.value;
        return { handle, id: new Uint8Array((id as Buffer | undefined) ?? Buffer.alloc(0)) };
      });
    });
  }

  /**
   * Generates a new anchor key with `label` and `id` (both fixed for its life). The generation runs off the
   * event loop (a token object is written, tens of milliseconds on SoftHSM2), so the caller's other work
   * can go on meanwhile. Where the profile has C_CopyObject (SoftHSM2), the key is generated as a session
   * object under another label and no id, and copied onto the token with the anchor's label and id (CKA_TOKEN
   * false → true, CKA_LABEL and CKA_ID are modifiable: PKCS#11 v2.40 §5.7, §4.4), then the session object is
   * destroyed: the same fresh secret and attributes in one token write, several times faster on SoftHSM2
   * (docs/audit.md, "What the pin writes of a sign cost"). The copy is read back and must be the token key
   * asked for, or it is destroyed and a token key is generated directly.
   */
  async generate(label: string, id: Uint8Array): Promise<AnchorKey> {
    if (!label) throw makeError('INTERNAL', 'An anchor key needs a non-empty label.');
    this.profile.checkKeyId(id);
    const template = anchorTemplate(label, id);
    if (this.profile.facts.copyObjects) {
      const copied = await this.pool.run('C_GenerateKey', (session) =>
        this.generateByCopy(session, template),
      );
      if (copied) return { handle: copied, id };
    }
    const handle = await this.pool.run('C_GenerateKey', (session) =>
      this.pkcs11.C_GenerateKeyAsync(session, { mechanism: pkcs11js.CKM_GENERIC_SECRET_KEY_GEN }, template),
    );
    return { handle, id };
  }

  /** A session key copied onto the token (undefined when the HSM refuses or the copy is not what was asked). */
  private async generateByCopy(session: Buffer, template: pkcs11js.Template): Promise<Buffer | undefined> {
    // The session key carries neither the anchor's label nor its id, so no listing of anchors can ever see it.
    const naming = new Set<number>([pkcs11js.CKA_TOKEN, pkcs11js.CKA_LABEL, pkcs11js.CKA_ID]);
    const asSession = [
      ...template.filter((a) => !naming.has(a.type)),
      { type: pkcs11js.CKA_TOKEN, value: false },
      { type: pkcs11js.CKA_LABEL, value: PENDING_LABEL },
    ];
    const transient = await this.pkcs11.C_GenerateKeyAsync(
      session,
      { mechanism: pkcs11js.CKM_GENERIC_SECRET_KEY_GEN },
      asSession,
    );
    let copy: Buffer | undefined;
    try {
      copy = this.pkcs11.C_CopyObject(
        session,
        transient,
        template.filter((a) => naming.has(a.type)),
      );
      if (!this.hasTemplate(session, copy, template)) {
        this.pkcs11.C_DestroyObject(session, copy);
        copy = undefined;
      }
    } catch {
      // C_CopyObject refused, or the copy could not be read back: no copy may stay under the anchor's label and
      // id beside the token key generated directly instead.
      if (copy) this.destroyQuietly(session, copy);
      copy = undefined;
    } finally {
      // a session object: it is gone at the latest when the session closes
      this.destroyQuietly(session, transient);
    }
    return copy;
  }

  private destroyQuietly(session: Buffer, handle: Buffer): void {
    try {
      this.pkcs11.C_DestroyObject(session, handle);
    } catch {
      // already gone, or the session ended
    }
  }

  /** The object carries every attribute of `template` (booleans, numbers, label and id as given). */
  private hasTemplate(session: Buffer, handle: Buffer, template: pkcs11js.Template): boolean {
    const read = this.pkcs11.C_GetAttributeValue(
      session,
      handle,
      template.map((a) => ({ type: a.type })),
    );
    return template.every((a, i) => {
      const got = read[i]?.value as Buffer | undefined;
      if (!got) return false;
      if (typeof a.value === 'boolean') return got.length === 1 && got[0] === (a.value ? 1 : 0);
      if (typeof a.value === 'number') return got.length >= 4 && got.readUInt32LE(0) === a.value;
      if (typeof a.value === 'string') return got.toString('utf8') === a.value;
      return Buffer.isBuffer(a.value) && got.equals(a.value);
    });
  }

  /**
   * HMAC-SHA-256 of `data` under the anchor key. Right after generation a network HSM may not have
   * the key on every replica yet: the profile's key-availability retry applies (HSM_KEY_NOT_AVAILABLE
   * once its bound is spent).
   */
  async hmac(key: AnchorKey, data: Uint8Array): Promise<Uint8Array> {
    return this.profile.whenKeyAvailable('C_Sign', () =>
      this.pool.run('C_Sign', async (session) => {
        this.pkcs11.C_SignInit(session, { mechanism: pkcs11js.CKM_SHA256_HMAC }, key.handle);
        const mac = this.pkcs11.C_Sign(session, Buffer.from(data), Buffer.alloc(ANCHOR_MAC_BYTES));
        return new Uint8Array(mac);
      }),
    );
  }

  /** Destroys an anchor key; one already gone counts as destroyed. */
  async destroy(key: AnchorKey): Promise<void> {
    await this.pool.run('C_DestroyObject', (session) => {
      try {
        this.pkcs11.C_DestroyObject(session, key.handle);
      } catch (error) {
        const ckr = ckrOf(error);
        if (ckr === pkcs11js.CKR_OBJECT_HANDLE_INVALID || ckr === pkcs11js.CKR_KEY_HANDLE_INVALID) return;
        throw makeError(
          'HSM_ERROR',
          `The HSM refused to destroy a superseded audit anchor (C_DestroyObject: ${ckr === undefined ? String(error) : ckrName(ckr)}).`,
        );
      }
    });
  }
}

/** The attributes of an anchor key (a token key, private, sensitive, non-extractable, HMAC only). */
function anchorTemplate(label: string, id: Uint8Array): pkcs11js.Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
    { type: pkcs11js.CKA_VALUE_LEN, value: ANCHOR_KEY_BYTES },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_SIGN, value: true },
    { type: pkcs11js.CKA_VERIFY, value: true },
    { type: pkcs11js.CKA_ENCRYPT, value: false },
    { type: pkcs11js.CKA_DECRYPT, value: false },
    { type: pkcs11js.CKA_WRAP, value: false },
    { type: pkcs11js.CKA_UNWRAP, value: false },
    { type: pkcs11js.CKA_DERIVE, value: false },
    { type: pkcs11js.CKA_LABEL, value: label },
    { type: pkcs11js.CKA_ID, value: Buffer.from(id) },
  ];
}
