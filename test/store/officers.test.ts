import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../core/errors.js';
import type { Hsm } from '../../hsm/index.js';
import { verifyApprovals } from '../../policy/approvals.js';
import { parsePolicy, type PolicyDocument } from '../../policy/schema.js';
import { Auditor, auditPublicKeyOf, verifyAudit } from '../../store/audit.js';
import { hsmAuditPorts } from '../../store/audit-hsm.js';
import { openDatabase, type ColdsignDb } from '../../store/database.js';
import {
  generateOfficerKey,
  loadOfficerKey,
  signApproval,
  signPolicy,
  type OfficerKey,
} from '../../store/officer-keys.js';
import { enrollOfficers, getQuorum, listOfficers, parseOfficerArgument } from '../../store/officers.js';
import { applyPolicy, loadPolicy } from '../../store/policies.js';
import { createTestToken, type TestToken } from '../support/softhsm.js';
import { SPEC_POLICY } from '../policy/fixtures.js';

const PASS = 'correct horse battery';
const T = new Date('2026-03-01T09:00:00.000Z');

let token: TestToken;
let hsm: Hsm;
let dir: string;
let db: ColdsignDb;
let auditor: Auditor;
const keys: Record<string, OfficerKey> = {};

async function refused(
  promise: Promise<unknown> | (() => unknown),
): Promise<{ code: ErrorCode; message: string }> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    return error as { code: ErrorCode; message: string };
  }
  throw new Error('nothing was refused');
}

beforeAll(async () => {
  token = createTestToken();
  hsm = token.open();
  dir = mkdtempSync(join(tmpdir(), 'coldsign-officers-'));
  db = openDatabase(join(dir, 'coldsign.db'));
  auditor = await Auditor.open(db, await hsmAuditPorts(hsm, { db, create: true }), T);
  for (const name of ['alice', 'bob', 'carol', 'mallory']) {
    const { pem } = generateOfficerKey(name, PASS);
    keys[name] = loadOfficerKey(pem, PASS);
  }
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
  hsm.close();
  token.cleanup();
});

describe('officer keys (encrypted PKCS#8 PEM)', () => {
  it('writes an encrypted PEM naming the officer, and prints the raw 32-byte public key', () => {
    const { pem, publicKey } = generateOfficerKey('dave', PASS);
    expect(pem).toMatch(
      /^Coldsign-Officer: dave\nColdsign-KDF: scrypt N=65536 r=8 p=1 salt=[0-9a-f]{32}\n-----BEGIN ENCRYPTED PRIVATE KEY-----/,
    );
    expect(publicKey).toMatch(/^[0-9a-f]{64}$/);
    expect(loadOfficerKey(pem, PASS)).toMatchObject({ name: 'dave', publicKey });
    expect(pem).not.toContain(PASS);
  });

  it('a wrong passphrase is OFFICER_PASSPHRASE_INCORRECT; a damaged or plain file is OFFICER_KEY_INVALID', async () => {
    const { pem } = generateOfficerKey('erin', PASS);
    expect((await refused(() => loadOfficerKey(pem, 'wrong passphrase'))).code).toBe(
      'OFFICER_PASSPHRASE_INCORRECT',
    );
    const damaged = pem.replace(/\n([A-Za-z0-9+/]{10})/, '\nAAAAAAAAAA');
    expect(['OFFICER_KEY_INVALID', 'OFFICER_PASSPHRASE_INCORRECT']).toContain(
      (await refused(() => loadOfficerKey(damaged, PASS))).code,
    );
    expect(
      (
        await refused(() =>
          loadOfficerKey(
            '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n',
            PASS,
          ),
        )
      ).code,
    ).toBe('OFFICER_KEY_INVALID');
    expect(
      (await refused(() => loadOfficerKey(pem.replace('Coldsign-Officer: erin\n', ''), PASS))).code,
    ).toBe('OFFICER_KEY_INVALID');
    expect((await refused(() => generateOfficerKey('frank', 'short'))).code).toBe('OFFICER_PASSPHRASE_WEAK');
  });

  it('parses --officer NAME=PUBKEY and refuses malformed ones', async () => {
    expect(parseOfficerArgument(`alice=${keys.alice!.publicKey.toUpperCase()}`)).toEqual({
      name: 'alice',
      publicKey: keys.alice!.publicKey,
    });
    expect((await refused(() => parseOfficerArgument('alice'))).code).toBe('USAGE');
    expect((await refused(() => parseOfficerArgument(`alice=${'zz'.repeat(32)}`))).code).toBe('USAGE');
    expect((await refused(() => parseOfficerArgument(`alice=${'ab'.repeat(31)}`))).code).toBe(
      'OFFICER_KEY_INVALID',
    );
  });
});

describe('enrolment, policy apply and approvals', () => {
  it('refuses a quorum larger than the officers, then enrols alice, bob and carol with quorum 2', async () => {
    const officers = ['alice', 'bob', 'carol'].map((name) => ({ name, publicKey: keys[name]!.publicKey }));
    expect((await refused(enrollOfficers(db, auditor, officers, 4, T))).code).toBe('QUORUM_INVALID');
    expect((await refused(enrollOfficers(db, auditor, [officers[0]!, officers[0]!], 1, T))).code).toBe(
      'OFFICER_NAME_TAKEN',
    );
    await enrollOfficers(db, auditor, officers, 2, T);
    expect(listOfficers(db).map((o) => o.name)).toEqual(['alice', 'bob', 'carol']);
    expect(getQuorum(db)).toBe(2);
  });

  it('no policy is in force before one is applied', () => {
    expect(loadPolicy(db)).toBeNull();
  });

  // Version 7 of the SPEC's policy, signed for this appliance (its audit public key).
  let v7: PolicyDocument;
  beforeAll(() => {
    v7 = parsePolicy({ ...SPEC_POLICY, appliance: auditor.publicKeyHex });
  });

  it('refuses a quorum-signed policy for no appliance or another one with POLICY_APPLIANCE_MISMATCH', async () => {
    const unbound = parsePolicy(SPEC_POLICY);
    const noAppliance = await refused(
      applyPolicy(auditor, signPolicy(signPolicy(unbound, keys.alice!), keys.bob!), T),
    );
    expect(noAppliance).toMatchObject({
      code: 'POLICY_APPLIANCE_MISMATCH',
      message: `Policy version 7 names no appliance: the officers must add "appliance": "${auditor.publicKeyHex}" (this appliance's audit public key) and sign it again.`,
    });
    const other = `03${'22'.repeat(32)}`;
    const elsewhere = parsePolicy({ ...SPEC_POLICY, appliance: other });
    expect(
      await refused(applyPolicy(auditor, signPolicy(signPolicy(elsewhere, keys.alice!), keys.bob!), T)),
    ).toMatchObject({
      code: 'POLICY_APPLIANCE_MISMATCH',
      message: `Policy version 7 was signed for another appliance (audit public key ${other}), not this one (${auditor.publicKeyHex}).`,
    });
    expect(loadPolicy(db)).toBeNull();
  });

  it('refuses a missing signature with POLICY_QUORUM_MISSING', async () => {
    expect(await refused(applyPolicy(auditor, signPolicy(v7, keys.alice!), T))).toMatchObject({
      code: 'POLICY_QUORUM_MISSING',
      message: 'The policy needs the signatures of 2 enrolled officers; it has 1 (alice).',
    });
  });

  it('refuses a signature by a non-officer with POLICY_SIGNATURE_INVALID', async () => {
    const doc = signPolicy(signPolicy(signPolicy(v7, keys.alice!), keys.bob!), keys.mallory!);
    expect(await refused(applyPolicy(auditor, doc, T))).toMatchObject({
      code: 'POLICY_SIGNATURE_INVALID',
      message: expect.stringMatching(/"mallory", who is not an enrolled officer/),
    });
  });

  it('refuses a field tampered after signing with POLICY_SIGNATURE_INVALID', async () => {
    const doc = signPolicy(signPolicy(v7, keys.alice!), keys.bob!);
    const json = JSON.parse(JSON.stringify(doc).replace('"maxAmount":"0.5"', '"maxAmount":"500"'));
    expect(await refused(applyPolicy(auditor, json, T))).toMatchObject({
      code: 'POLICY_SIGNATURE_INVALID',
      message: expect.stringMatching(/changed after it was signed/),
    });
  });

  it('refuses a schema error with POLICY_INVALID naming the field', async () => {
    const doc = { ...signPolicy(signPolicy(v7, keys.alice!), keys.bob!), rules: [{ id: 'x', chain: 'btc' }] };
    expect(await refused(applyPolicy(auditor, doc, T))).toMatchObject({
      code: 'POLICY_INVALID',
      message: expect.stringMatching(/rules\[0\]\.network/),
    });
  });

  it('applies a quorum-signed policy, audits it, and loads it back verified', async () => {
    const applied = await applyPolicy(auditor, signPolicy(signPolicy(v7, keys.alice!), keys.carol!), T);
    expect(applied).toMatchObject({ version: 7, signers: ['alice', 'carol'] });
    expect(loadPolicy(db)?.version).toBe(7);
    const entry = db.sqlite.prepare("SELECT payload FROM audit_log WHERE type = 'policy.applied'").get() as {
      payload: string;
    };
    expect(JSON.parse(entry.payload)).toMatchObject({
      version: 7,
      digest: applied.digest,
      signers: ['alice', 'carol'],
    });
    expect(verifyAudit(db, auditPublicKeyOf(db)!).ok).toBe(true);
  });

  it('refuses a lower or equal version, even quorum-signed, with POLICY_VERSION_STALE', async () => {
    const v6 = parsePolicy({ ...SPEC_POLICY, appliance: auditor.publicKeyHex, version: 6 });
    expect(
      await refused(applyPolicy(auditor, signPolicy(signPolicy(v6, keys.alice!), keys.bob!), T)),
    ).toMatchObject({
      code: 'POLICY_VERSION_STALE',
      message: 'Policy version 6 is not higher than version 7 in force.',
    });
    const v7again = signPolicy(signPolicy(v7, keys.alice!), keys.bob!);
    expect((await refused(applyPolicy(auditor, v7again, T))).code).toBe('POLICY_VERSION_STALE');
  });

  it('a policy row edited in the database is refused when loaded', async () => {
    const row = db.sqlite.prepare('SELECT document FROM policies WHERE version = 7').get() as {
      document: string;
    };
    db.sqlite
      .prepare('UPDATE policies SET document = ? WHERE version = 7')
      .run(row.document.replace('"0.5"', '"50"'));
    expect((await refused(() => loadPolicy(db))).code).toBe('POLICY_SIGNATURE_INVALID');
    db.sqlite.prepare('UPDATE policies SET document = ? WHERE version = 7').run(row.document);
    expect(loadPolicy(db)?.version).toBe(7);
  });

  it('approvals signed with officer key files verify against the enrolled officers', () => {
    const scope = { appliance: '02'.padEnd(66, 'a'), keyPublicKeys: ['03'.padEnd(66, 'b')] };
    const binding = { requestId: '0f'.repeat(32), keys: ['vault-1'], policyVersion: 7, scope };
    const approvals = [
      signApproval(binding, keys.alice!, T),
      signApproval(binding, keys.bob!, T),
      signApproval(binding, keys.alice!, T),
    ];
    expect(verifyApprovals(approvals, binding, listOfficers(db), T, null).sort()).toEqual(['alice', 'bob']);
    expect(() =>
      verifyApprovals([signApproval(binding, keys.mallory!, T)], binding, listOfficers(db), T, null),
    ).toThrow(expect.objectContaining({ code: 'APPROVAL_INVALID' }));
    // Made on another appliance, or for another key under the same label: the signature does not verify.
    for (const elsewhere of [
      { ...scope, appliance: '02'.padEnd(66, 'c') },
      { ...scope, keyPublicKeys: ['03'.padEnd(66, 'd')] },
    ])
      expect(() =>
        verifyApprovals(approvals, { ...binding, scope: elsewhere }, listOfficers(db), T, null),
      ).toThrow(
        expect.objectContaining({
          code: 'APPROVAL_INVALID',
          message: expect.stringMatching(/another appliance/),
        }),
      );
  });
});
