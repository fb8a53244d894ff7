/**
 * Anchor keys made by copy on a real SoftHSM2 token (hsm/anchor-keys.ts): generated as a session key, copied onto
 * the token, the session key destroyed. What the argument in docs/audit.md ("What the pin writes of a sign cost")
 * rests on is checked here: each anchor has its own fresh secret (never a copy of an earlier anchor), the token key
 * carries the whole anchor template, no session key is left behind (a process that dies before the copy leaves
 * nothing on the token), and when C_CopyObject is refused or the copy is not what was asked the token key is
 * generated directly (a copy that cannot be read back is destroyed first). Refusing C_CopyObject, relabelling the
 * copy or failing its read-back is injected through the module wrapper
 * (SoftHSM2 cannot be made to refuse one call): the test names say so.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hsm } from '../../hsm/index.js';
import { setModuleWrapper } from '../../hsm/module.js';
import { AUDIT_ANCHOR_LABEL, openHsmAuditor } from '../../store/audit-hsm.js';
import { openDatabase } from '../../store/database.js';
import { createTestToken, TEST_PIN, type TestToken } from '../support/softhsm.js';

type CopyMode = 'copy' | 'refuse' | 'relabelled-copy' | 'unreadable-copy';

let token: TestToken;
let hsm: Hsm;
let mode: CopyMode = 'copy';
let copies = 0;
/** Set by an 'unreadable-copy' copy: the next C_GetAttributeValue (the read-back) fails once. */
let failNextRead = false;

beforeAll(() => {
  token = createTestToken('coldsign-anchor-copy');
  setModuleWrapper(
    (native) =>
      new Proxy(native, {
        get(target, property) {
          if (property === 'C_GetAttributeValue' && failNextRead) {
            failNextRead = false;
            return () => {
              throw new Error('CKR_DEVICE_ERROR:48 (injected)');
            };
          }
          if (property === 'C_CopyObject') {
            return (session: Buffer, object: Buffer, template: pkcs11js.Template) => {
              copies += 1;
              if (mode === 'refuse') throw new Error('CKR_FUNCTION_NOT_SUPPORTED:84 (injected)');
              if (mode === 'unreadable-copy') failNextRead = true;
              // A copy that is not what was asked: it comes out with another label.
              const asked =
                mode === 'relabelled-copy'
                  ? [...template, { type: pkcs11js.CKA_LABEL, value: RELABELLED }]
                  : template;
              return target.C_CopyObject(session, object, asked);
            };
          }
          const value = Reflect.get(target, property, target) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      }),
  );
  hsm = Hsm.open({ module: token.module, token: token.token }, TEST_PIN);
});

afterAll(() => {
  hsm?.close();
  setModuleWrapper(undefined);
  token?.cleanup();
});

/** The label of the session key an anchor is copied from (hsm/anchor-keys.ts). */
const PENDING = 'coldsign-audit-anchor-pending';
const RELABELLED = 'copy-case-relabelled-by-the-hsm';
const id = (n: number) => Uint8Array.from({ length: 60 }, (_, i) => (i === 59 ? n : 0x40));

/** Every anchor-like key with this label (token and this process's session objects alike), with its flags. */
async function labelled(label: string) {
  const keys = await hsm.anchors.list(label);
  return hsm.pool.run('C_GetAttributeValue', (session) =>
    keys.map(({ handle, id: keyId }) => {
      const flags = hsm.pkcs11
        .C_GetAttributeValue(session, handle, [
          { type: pkcs11js.CKA_TOKEN },
          { type: pkcs11js.CKA_SENSITIVE },
          { type: pkcs11js.CKA_EXTRACTABLE },
          { type: pkcs11js.CKA_PRIVATE },
          { type: pkcs11js.CKA_ENCRYPT },
        ])
        .map((attribute) => (attribute.value as Buffer)[0]);
      const [token, sensitive, extractable, isPrivate, encrypt] = flags;
      return {
        handle,
        token,
        sensitive,
        extractable,
        private: isPrivate,
        encrypt,
        id: Buffer.from(keyId).toString('hex'),
      };
    }),
  );
}

describe('anchor keys made by copy (SoftHSM2 profile)', () => {
  it('are token keys with the whole anchor template, each with its own secret, and leave no session key behind', async () => {
    mode = 'copy';
    copies = 0;
    const label = 'copy-case-fresh';
    const first = await hsm.anchors.generate(label, id(1));
    const second = await hsm.anchors.generate(label, id(2));
    expect(copies).toBe(2);
    const objects = await labelled(label);
    expect(objects).toHaveLength(2);
    for (const object of objects) {
      expect(object).toMatchObject({ token: 1, sensitive: 1, extractable: 0, private: 1, encrypt: 0 });
    }
    expect(objects.map((o) => o.id).sort()).toEqual(
      [Buffer.from(id(1)).toString('hex'), Buffer.from(id(2)).toString('hex')].sort(),
    );
    expect(await labelled(PENDING)).toHaveLength(0);
    // Fresh secrets: the same data gives different MACs under the two anchors.
    const data = Uint8Array.from([1, 2, 3]);
    const [a, b] = [await hsm.anchors.hmac(first, data), await hsm.anchors.hmac(second, data)];
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  const fallbacks: Array<[CopyMode, string]> = [
    ['refuse', 'C_CopyObject refused'],
    ['relabelled-copy', 'a copy that is not what was asked (another label) is destroyed:'],
    ['unreadable-copy', 'a copy that cannot be read back is destroyed:'],
  ];
  for (const [injected, what] of fallbacks) {
    it(`${what} (injected through the module wrapper): the token key is generated directly, nothing else left`, async () => {
      mode = injected;
      copies = 0;
      const label = `copy-case-${injected}`;
      const key = await hsm.anchors.generate(label, id(3));
      expect(copies).toBe(1);
      const objects = await labelled(label);
      expect(objects).toHaveLength(1);
      expect(objects[0]).toMatchObject({ token: 1, sensitive: 1, extractable: 0, private: 1 });
      expect(objects[0]!.handle.equals(key.handle)).toBe(true);
      expect(await labelled(RELABELLED)).toHaveLength(0);
    });
  }

  it('an auditor over copied anchors: every pin write leaves one anchor, and a reopened home verifies it', async () => {
    mode = 'copy';
    copies = 0;
    const dir = token.home;
    const db = openDatabase(`${dir}/copy-case.db`);
    const T = new Date('2026-04-01T00:00:00.000Z');
    const auditor = await openHsmAuditor(db, hsm, T, { create: true, pinLabel: 'copy-case-home' });
    for (let n = 1; n <= 3; n += 1) await auditor.log('test.entry', { n }, T);
    expect(copies).toBeGreaterThanOrEqual(3);
    const anchors = (await labelled(AUDIT_ANCHOR_LABEL)).filter((o) => o.id.length === 120);
    expect(anchors).toHaveLength(1);
    expect(anchors[0]).toMatchObject({ token: 1, sensitive: 1, extractable: 0 });
    const reopened = await openHsmAuditor(db, hsm, T, { pinLabel: 'copy-case-home' });
    await expect(reopened.assertHeadMatchesToken()).resolves.toMatchObject({ seq: 3 });
    db.close();
  });

  it('a process killed (SIGKILL) between generating the session key and copying it leaves nothing on the token', async () => {
    const label = PENDING; // the label the product gives the session key before copying it
    // The child generates the session key exactly as the anchor does, says so, and is killed before any copy.
    const child = `
      const pkcs11js = require(${JSON.stringify(createRequire(import.meta.url).resolve('pkcs11js'))});
      const p = new pkcs11js.PKCS11(); p.load(${JSON.stringify(token.module)}); p.C_Initialize();
      const slot = p.C_GetSlotList(true).find((s) => p.C_GetTokenInfo(s).label.trim() === ${JSON.stringify(token.token)});
      const s = p.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      p.C_Login(s, pkcs11js.CKU_USER, ${JSON.stringify(TEST_PIN)});
      p.C_GenerateKey(s, { mechanism: pkcs11js.CKM_GENERIC_SECRET_KEY_GEN }, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
        { type: pkcs11js.CKA_TOKEN, value: false },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        { type: pkcs11js.CKA_SIGN, value: true },
        { type: pkcs11js.CKA_LABEL, value: ${JSON.stringify(label)} },
      ]);
      process.stdout.write('generated\\n');
      process.kill(process.pid, 'SIGKILL');
    `;
    const result = spawnSync(process.execPath, ['-e', child], { encoding: 'utf8', env: process.env });
    expect(result.signal).toBe('SIGKILL');
    expect(result.stdout).toBe('generated\n');
    expect(await labelled(label)).toHaveLength(0);
  });
});
