/**
 * The audit anchor (a ratchet of HSM HMAC keys) on a real SoftHSM2 token: what it creates, rollback of
 * the database and of the anchor key, a crash injected after every step of a pin write, two anchors,
 * no anchor, and the migration of a home still on the data-object pin.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isColdsignError, type ErrorCode } from '../../core/errors.js';
import type { Hsm } from '../../hsm/index.js';
import { Auditor, auditPublicKeyOf, verifyAudit } from '../../store/audit.js';
import {
  AUDIT_ANCHOR_LABEL,
  hsmAuditPorts,
  openHsmAuditor,
  type AnchorStep,
  type AuditHsm,
} from '../../store/audit-hsm.js';
import { openDatabase, type ColdsignDb } from '../../store/database.js';
import { createTestToken, type TestToken } from '../support/softhsm.js';

let token: TestToken;
let hsm: Hsm;
let counter = 0;
const T = new Date('2026-04-01T00:00:00.000Z');

beforeAll(() => {
  token = createTestToken('coldsign-anchor');
  hsm = token.open();
});

afterAll(() => {
  hsm?.close();
  token?.cleanup();
});

async function codeOf(promise: Promise<unknown>): Promise<ErrorCode | 'no error'> {
  try {
    await promise;
    return 'no error';
  } catch (error) {
    if (isColdsignError(error)) return error.code;
    throw error;
  }
}

interface Home {
  dir: string;
  path: string;
  db: ColdsignDb;
  label: string;
}

/** A database with its own anchor namespace on the shared token, and `entries` checkpointed entries. */
async function newHome(entries: number): Promise<Home & { auditor: Auditor }> {
  counter += 1;
  const dir = mkdtempSync(join(tmpdir(), 'coldsign-anchor-'));
  const path = join(dir, 'coldsign.db');
  const db = openDatabase(path);
  const label = `anchor-case-${counter}`;
  const auditor = await openHsmAuditor(db, hsm, T, { create: true, pinLabel: label });
  for (let i = 1; i <= entries; i += 1) await auditor.log('test.entry', { n: i }, T);
  await auditor.checkpoint(T);
  return { dir, path, db, label, auditor };
}

async function anchorsOf(home: Home) {
  const ports = await hsmAuditPorts(hsm, { db: home.db, pinLabel: home.label });
  return ports.pins.state();
}

function auditPublicKey(db: ColdsignDb): string {
  return auditPublicKeyOf(db) as string;
}

function snapshot(home: Home): string {
  home.db.close();
  const saved = `${home.path}.saved`;
  copyFileSync(home.path, saved);
  copyFileSync(`${home.path}-anchor.json`, `${saved}-anchor.json`);
  home.db = openDatabase(home.path);
  return saved;
}

function restore(home: Home, saved: string): void {
  home.db.close();
  copyFileSync(saved, home.path);
  copyFileSync(`${saved}-anchor.json`, `${home.path}-anchor.json`);
  rmSync(`${home.path}-wal`, { force: true });
  rmSync(`${home.path}-shm`, { force: true });
  home.db = openDatabase(home.path);
}

describe('the anchor', () => {
  it('is one sensitive, non-extractable HMAC key with a fixed label and a 60-byte CKA_ID; no data object exists', async () => {
    const home = await newHome(2);
    const states = await anchorsOf(home);
    expect(states).toHaveLength(1);
    expect(states[0]).toMatchObject({ status: 'valid', pinnedSeq: 2 });
    const keys = (await hsm.anchors.list(AUDIT_ANCHOR_LABEL)).filter((k) => k.id.length === 60);
    expect(keys.length).toBeGreaterThanOrEqual(1);
    const attributes = await hsm.pool.run('C_GetAttributeValue', (session) =>
      hsm.pkcs11.C_GetAttributeValue(session, keys[0]!.handle, [
        { type: pkcs11js.CKA_SENSITIVE },
        { type: pkcs11js.CKA_EXTRACTABLE },
        { type: pkcs11js.CKA_SIGN },
        { type: pkcs11js.CKA_TOKEN },
        { type: pkcs11js.CKA_KEY_TYPE },
      ]),
    );
    const flag = (i: number) => (attributes[i]!.value as Buffer)[0];
    expect([flag(0), flag(1), flag(2), flag(3)]).toEqual([1, 0, 1, 1]);
    expect((attributes[4]!.value as Buffer).readUInt32LE(0)).toBe(pkcs11js.CKK_GENERIC_SECRET);
    const dataObjects = await hsm.pool.run('C_FindObjects', (session) => {
      hsm.pkcs11.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_DATA }]);
      try {
        return hsm.pkcs11.C_FindObjects(session, 100);
      } finally {
        hsm.pkcs11.C_FindObjectsFinal(session);
      }
    });
    expect(dataObjects).toHaveLength(0);
  });

  it('advances with every pin write and keeps exactly one anchor per appliance', async () => {
    const home = await newHome(1);
    const before = (await anchorsOf(home))[0]!.seq;
    await home.auditor.log('test.entry', { n: 9 }, T);
    await home.auditor.checkpoint(T);
    const after = await anchorsOf(home);
    expect(after).toHaveLength(1);
    expect(after[0]!.seq).toBeGreaterThan(before);
    await expect(home.auditor.assertHeadMatchesToken()).resolves.toMatchObject({ seq: 2 });
  });
});

describe('the hot path', () => {
  it('does not recompute the HMAC of the anchor this process wrote or verified, but does for a key re-created with its id', async () => {
    const home = await newHome(1);
    let macs = 0;
    const counting: AuditHsm = {
      keys: hsm.keys,
      signer: hsm.signer,
      anchors: {
        list: (label) => hsm.anchors.list(label),
        generate: (label, id) => hsm.anchors.generate(label, id),
        destroy: (key) => hsm.anchors.destroy(key),
        hmac: (key, data) => {
          macs += 1;
          return hsm.anchors.hmac(key, data);
        },
      },
    };
    const auditor = await openHsmAuditor(home.db, counting, T, { pinLabel: home.label });
    expect(macs).toBe(1); // start-up verifies the anchor in the HSM once
    macs = 0;
    await auditor.log('test.entry', { n: 2 }, T);
    expect(macs).toBe(2); // two pin writes (open, checkpoint), one MAC each by the new key
    macs = 0;
    for (let i = 0; i < 3; i += 1) await auditor.assertHeadMatchesToken();
    expect(macs).toBe(0);
    const records = JSON.parse(readFileSync(`${home.path}-anchor.json`, 'utf8')) as {
      records: Array<{ namespace: string }>;
    };
    expect(records.records).toHaveLength(1); // the superseded records went in the same write

    const [state] = await anchorsOf(home);
    const current = (await hsm.anchors.list(AUDIT_ANCHOR_LABEL)).find(
      (k) => fingerprintOf(k.id) === state!.fingerprint,
    )!;
    await hsm.anchors.destroy(current);
    await hsm.anchors.generate(AUDIT_ANCHOR_LABEL, current.id);
    macs = 0;
    const error = await auditor.assertHeadMatchesToken().catch((e: unknown) => e);
    expect(isColdsignError(error, 'AUDIT_ROLLBACK')).toBe(true);
    expect((error as Error).message).toMatch(/HMAC mismatch/);
    expect(macs).toBe(1);
  });
});

describe('rollback', () => {
  it('of the database (and its anchor records) is refused: the HSM anchor is newer', async () => {
    const home = await newHome(2);
    const saved = snapshot(home);
    const auditor = await openHsmAuditor(home.db, hsm, T, { pinLabel: home.label });
    await auditor.log('test.entry', { n: 3 }, T);
    await auditor.checkpoint(T);
    restore(home, saved);
    // The old copy is genuine on its own …
    expect(verifyAudit(home.db, auditPublicKey(home.db))).toMatchObject({ ok: true });
    // … but its anchor record does not match the anchor key in the HSM.
    expect(await codeOf(openHsmAuditor(home.db, hsm, T, { pinLabel: home.label }))).toBe('AUDIT_ROLLBACK');
  });

  it('of the anchor (an old anchor key re-created with its old CKA_ID) is refused: its HMAC differs', async () => {
    const home = await newHome(2);
    const ports = await hsmAuditPorts(hsm, { db: home.db, pinLabel: home.label });
    const [oldState] = await ports.pins.state();
    const oldKey = (await hsm.anchors.list(AUDIT_ANCHOR_LABEL)).find(
      (k) => fingerprintOf(k.id) === oldState!.fingerprint,
    )!;
    const saved = snapshot(home);
    const auditor = await openHsmAuditor(home.db, hsm, T, { pinLabel: home.label });
    await auditor.log('test.entry', { n: 3 }, T);
    await auditor.checkpoint(T);
    // The attacker restores the database and replaces the current anchor by a key with the old id.
    restore(home, saved);
    for (const key of await hsm.anchors.list(AUDIT_ANCHOR_LABEL)) {
      if (fingerprintOf(key.id) !== oldState!.fingerprint && sameNamespace(key.id, oldKey.id))
        await hsm.anchors.destroy(key);
    }
    await hsm.anchors.generate(AUDIT_ANCHOR_LABEL, oldKey.id);
    const error = await openHsmAuditor(home.db, hsm, T, { pinLabel: home.label }).catch((e: unknown) => e);
    expect(isColdsignError(error, 'AUDIT_ROLLBACK')).toBe(true);
    expect((error as Error).message).toMatch(/HMAC mismatch/);
  });

  it('with no anchor left in the HSM is refused', async () => {
    const home = await newHome(1);
    const ports = await hsmAuditPorts(hsm, { db: home.db, pinLabel: home.label });
    const [state] = await ports.pins.state();
    for (const key of await hsm.anchors.list(AUDIT_ANCHOR_LABEL))
      if (fingerprintOf(key.id) === state!.fingerprint) await hsm.anchors.destroy(key);
    const error = await openHsmAuditor(home.db, hsm, T, { pinLabel: home.label }).catch((e: unknown) => e);
    expect(isColdsignError(error, 'AUDIT_ROLLBACK')).toBe(true);
    expect((error as Error).message).toMatch(/no audit anchor/);
  });

  it('a second anchor appearing while the appliance runs makes the next signature refuse', async () => {
    const home = await newHome(1);
    const [state] = await anchorsOf(home);
    const key = (await hsm.anchors.list(AUDIT_ANCHOR_LABEL)).find(
      (k) => fingerprintOf(k.id) === state!.fingerprint,
    )!;
    const forged = Uint8Array.from(key.id);
    forged[27] = (forged[27] ?? 0) + 1; // a higher anchor seq in the same namespace
    await hsm.anchors.generate(AUDIT_ANCHOR_LABEL, forged);
    expect(await codeOf(home.auditor.assertHeadMatchesToken())).toBe('AUDIT_ROLLBACK');
  });
});

describe('a crash injected after each step of a pin write', () => {
  const steps: AnchorStep[] = ['created', 'recorded', 'destroyed-one', 'destroyed-all'];
  for (const step of steps) {
    it(`after "${step}": the next start-up finds one valid anchor, audits what it resolved, and verifies`, async () => {
      const home = await newHome(2);
      const crashing = await hsmAuditPorts(hsm, {
        db: home.db,
        pinLabel: home.label,
        faultAt: (at) => {
          if (at === step) throw new Error(`injected crash after ${at}`);
        },
      });
      const auditor = await Auditor.open(home.db, crashing, T);
      await expect(auditor.log('test.entry', { n: 3 }, T)).rejects.toThrow(/injected crash/);
      // Restart.
      const restarted = await openHsmAuditor(home.db, hsm, T, { pinLabel: home.label });
      const states = await anchorsOf(home);
      expect(states).toHaveLength(1);
      expect(states[0]!.status).toBe('valid');
      const types = home.db.sqlite
        .prepare('SELECT type FROM audit_log ORDER BY seq')
        .pluck()
        .all() as string[];
      const twoAnchorsLeft = step === 'created' || step === 'recorded';
      expect(types.includes('hsm.anchor-resolved')).toBe(twoAnchorsLeft);
      expect(verifyAudit(home.db, auditPublicKey(home.db))).toMatchObject({ ok: true });
      await restarted.log('test.entry', { n: 4 }, T);
      await restarted.checkpoint(T);
      await expect(restarted.assertHeadMatchesToken()).resolves.toBeTruthy();
    });
  }
});

describe('migration from the data-object pin', () => {
  it('moves a home pinned by a CKO_DATA object to the key anchor with an audited entry, and removes the object', async () => {
    counter += 1;
    const dir = mkdtempSync(join(tmpdir(), 'coldsign-anchor-'));
    const db = openDatabase(join(dir, 'coldsign.db'));
    const label = `legacy-case-${counter}`;
    const ports = await hsmAuditPorts(hsm, { db, create: true, pinLabel: label });
    // The previous release's pin store: a private data object with this label.
    const legacy = await Auditor.open(
      db,
      {
        signer: ports.signer,
        pins: { read: () => hsm.keys.readAllData(label), write: (v) => hsm.keys.writeData(label, v) },
      },
      T,
    );
    await legacy.log('test.entry', { n: 1 }, T);
    await legacy.checkpoint(T);
    expect(await hsm.keys.readAllData(label)).toHaveLength(1);

    const migrated = await openHsmAuditor(db, hsm, T, { pinLabel: label });
    expect(await hsm.keys.readAllData(label)).toHaveLength(0);
    const states = await (await hsmAuditPorts(hsm, { db, pinLabel: label })).pins.state();
    expect(states).toHaveLength(1);
    const entry = db.sqlite
      .prepare("SELECT payload FROM audit_log WHERE type = 'hsm.anchor-migrated'")
      .get() as { payload: string } | undefined;
    expect(JSON.parse(entry!.payload)).toMatchObject({ from: 'data-object pin', to: 'key anchor' });
    expect(verifyAudit(db, auditPublicKey(db))).toMatchObject({ ok: true });
    await expect(migrated.assertHeadMatchesToken()).resolves.toBeTruthy();
  });
});

function sameNamespace(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.subarray(0, 20)).equals(Buffer.from(b.subarray(0, 20)));
}

function fingerprintOf(id: Uint8Array): string {
  return createHashHex(id).slice(0, 16);
}

function createHashHex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
