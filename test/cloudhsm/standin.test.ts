/**
 * The cloudhsm profile against the CloudHSM stand-in (a test-only PKCS#11 wrapper over a real SoftHSM2 token
 * enforcing the documented SDK 5 limits): detection, PIN shape, shared login, no data object and no attribute
 * change on any code path, key availability after generation, throttling.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isColdsignError, type ErrorCode } from '../../core/errors.js';
import { Hsm } from '../../hsm/index.js';
import { setModuleWrapper } from '../../hsm/module.js';
import { verifyAudit, auditPublicKeyOf } from '../../store/audit.js';
import { openHsmAuditor } from '../../store/audit-hsm.js';
import { openDatabase } from '../../store/database.js';
import { createTestToken, TEST_PIN, type TestToken } from '../support/softhsm.js';
import { cloudHsmStandin, type StandinControl } from './standin.js';

const PIN = `coldsign:${TEST_PIN}`;
let token: TestToken;
let control: StandinControl;
let hsm: Hsm;

async function codeOf(fn: () => unknown): Promise<ErrorCode | 'no error'> {
  try {
    await fn();
    return 'no error';
  } catch (error) {
    if (isColdsignError(error)) return error.code;
    throw error;
  }
}

beforeAll(() => {
  token = createTestToken('coldsign-standin');
  setModuleWrapper((native) => {
    const standin = cloudHsmStandin(native);
    control = standin.control;
    return standin.pkcs11;
  });
  hsm = Hsm.open({ module: token.module, token: token.token }, PIN);
});

afterAll(() => {
  hsm?.close();
  setModuleWrapper(undefined);
  token?.cleanup();
});

describe('CloudHSM stand-in: the limits it enforces', () => {
  it('refuses read-only sessions, data objects, attribute changes, empty labels and duplicate CKA_IDs', async () => {
    const slot = hsm.slot;
    expect(() => hsm.pkcs11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION)).toThrow(/CKR_FUNCTION_FAILED/);
    await hsm.pool.run('test', (session) => {
      expect(() =>
        hsm.pkcs11.C_CreateObject(session, [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_DATA },
          { type: pkcs11js.CKA_LABEL, value: 'x' },
        ]),
      ).toThrow();
      const template = (label: string, id: number) => [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
        { type: pkcs11js.CKA_TOKEN, value: false },
        { type: pkcs11js.CKA_LABEL, value: label },
        { type: pkcs11js.CKA_ID, value: Buffer.from([id]) },
      ];
      const gen = { mechanism: pkcs11js.CKM_GENERIC_SECRET_KEY_GEN };
      expect(() => hsm.pkcs11.C_GenerateKey(session, gen, template('', 1))).toThrow(
        /ATTRIBUTE_VALUE_INVALID/,
      );
      const key = hsm.pkcs11.C_GenerateKey(session, gen, template('a', 2));
      expect(() => hsm.pkcs11.C_GenerateKey(session, gen, template('b', 2))).toThrow(/TEMPLATE_INCONSISTENT/);
      expect(() =>
        hsm.pkcs11.C_SetAttributeValue(session, key, [{ type: pkcs11js.CKA_LABEL, value: 'c' }]),
      ).toThrow();
    });
    expect(control.counters.dataObjectAttempts).toBe(1);
    expect(control.counters.setAttributeAttempts).toBe(1);
  });
});

describe('the cloudhsm profile', () => {
  it('is detected from the token info and lists what it cannot do', () => {
    expect(hsm.profile.name).toBe('cloudhsm');
    expect(hsm.profile.source).toBe('detected');
    expect(hsm.profile.limits().join('\n')).toMatch(/no PKCS#11 data objects/);
  });

  it('refuses a PIN without "user:" before any C_Login reaches the HSM', async () => {
    const before = control.counters.logins;
    expect(await codeOf(() => Hsm.open({ module: token.module, token: token.token }, TEST_PIN))).toBe(
      'HSM_PIN_FORMAT',
    );
    expect(control.counters.logins).toBe(before);
  });

  it('accepts "already logged in" as logged in (the login is shared) and keeps the first connection working', async () => {
    const second = Hsm.open({ module: token.module, token: token.token }, PIN);
    try {
      const key = await second.keys.generate('shared-login');
      expect((await hsm.keys.list()).some((k) => k.keyId === key.keyId)).toBe(true);
    } finally {
      second.close();
    }
    await expect(hsm.keys.list()).resolves.toBeInstanceOf(Array);
  });

  it('selects the token by slot id and by serial, and names what is present when nothing matches', async () => {
    const info = hsm.pkcs11.C_GetTokenInfo(hsm.slot);
    const bySerial = Hsm.open(
      { module: token.module, token: 'ignored', serial: info.serialNumber.trim() },
      PIN,
    );
    bySerial.close();
    const slotId = Number(hsm.slot.readBigUInt64LE(0));
    const bySlot = Hsm.open({ module: token.module, token: 'ignored', slot: slotId }, PIN);
    bySlot.close();
    const error = await codeOf(() =>
      Hsm.open({ module: token.module, token: 'x', slot: slotId + 1000 }, PIN),
    );
    expect(error).toBe('HSM_TOKEN_NOT_FOUND');
  });

  it('runs the audit anchor with no data object and no attribute change; the keys too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coldsign-standin-'));
    const db = openDatabase(join(dir, 'coldsign.db'));
    const before = { ...control.counters };
    const auditor = await openHsmAuditor(db, hsm, new Date(), { create: true });
    await auditor.log('test.entry', { n: 1 }, new Date());
    await auditor.checkpoint(new Date());
    await hsm.keys.generate('vault');
    await expect(auditor.assertHeadMatchesToken()).resolves.toMatchObject({ seq: 1 });
    expect(verifyAudit(db, auditPublicKeyOf(db)!)).toMatchObject({ ok: true });
    expect(control.counters.dataObjectAttempts).toBe(before.dataObjectAttempts);
    expect(control.counters.setAttributeAttempts).toBe(before.setAttributeAttempts);
    db.close();
  });

  it('retries a new key that is not yet available, and gives HSM_KEY_NOT_AVAILABLE after the bound', async () => {
    const id = (n: number) => Uint8Array.from({ length: 60 }, (_, i) => (i === 59 ? n : 0x42));
    control.keyNotYetAvailable(2);
    const key = await hsm.anchors.generate('availability', id(1));
    await expect(hsm.anchors.hmac(key, Uint8Array.from([1]))).resolves.toHaveLength(32);
    control.keyNotYetAvailable(100);
    const late = await hsm.anchors.generate('availability', id(2));
    expect(await codeOf(() => hsm.anchors.hmac(late, Uint8Array.from([1])))).toBe('HSM_KEY_NOT_AVAILABLE');
    control.keyNotYetAvailable(0);
  });

  it('maps throttling (CKR_OPERATION_ACTIVE, CKR_FUNCTION_FAILED) to bounded retries, then HSM_THROTTLED', async () => {
    const key = await hsm.keys.generate('throttled');
    const digest = new Uint8Array(32).fill(7);
    control.throttle('C_SignAsync', pkcs11js.CKR_OPERATION_ACTIVE, 2);
    await expect(hsm.signer.signDigest(key.keyId, key.publicKey, digest)).resolves.toBeTruthy();
    control.throttle('C_SignAsync', pkcs11js.CKR_FUNCTION_FAILED, 10);
    expect(await codeOf(() => hsm.signer.signDigest(key.keyId, key.publicKey, digest))).toBe('HSM_THROTTLED');
    control.throttle('C_SignAsync', pkcs11js.CKR_FUNCTION_FAILED, 0);
  });
});
