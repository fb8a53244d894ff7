/**
 * Close, then open again, in one process (a real SoftHSM2 token): each connection leases the PKCS#11 library,
 * the library is known by its real path, and C_Finalize runs only when the last lease is given back. So a
 * connection opened while the previous one's sign workers are still exiting keeps working, even when it names
 * the library through another path (a symlink), and nobody has to await `Hsm.released` first.
 */
import { randomBytes } from 'node:crypto';
import { rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatBytes } from '../../core/bytes.js';
import { Hsm } from '../../hsm/index.js';
import type { HsmKey } from '../../hsm/keystore.js';
import { acquireModule, moduleLeases } from '../../hsm/module.js';
import { createTestToken, TEST_PIN, type TestToken } from '../support/softhsm.js';

let token: TestToken;
let key: HsmKey;
let linkedModule: string;

const openAt = (module: string, profile: 'generic' | 'softhsm2' = 'generic') =>
  Hsm.open({ module, token: token.token, profile }, TEST_PIN, { size: 2 });

/** Signs `count` random digests at once and checks every signature with @noble/curves. */
async function signsValid(hsm: Hsm, count: number): Promise<void> {
  const digests = Array.from({ length: count }, () => new Uint8Array(randomBytes(32)));
  const signatures = await Promise.all(
    digests.map((d) => hsm.signer.signDigest(key.keyId, key.publicKey, d)),
  );
  signatures.forEach((signature, i) => {
    const compact = concatBytes(signature.r, signature.s);
    expect(secp256k1.verify(compact, digests[i]!, key.publicKey, { prehash: false, lowS: true })).toBe(true);
  });
}

beforeAll(async () => {
  token = createTestToken('coldsign-module-lease');
  linkedModule = join(token.home, 'linked-pkcs11-module.so');
  symlinkSync(token.module, linkedModule);
  const setup = openAt(token.module, 'softhsm2');
  key = await setup.keys.generate('lease-key');
  setup.close();
});

afterAll(() => token?.cleanup());

describe('PKCS#11 library leases: close then reopen in one process', () => {
  it('a connection opened through a symlink while the closed one’s workers exit keeps signing after they have exited', async () => {
    const first = openAt(token.module);
    await first.startProfileSignWorkers();
    const inFlight = first.signer.signDigest(key.keyId, key.publicKey, new Uint8Array(randomBytes(32)));
    first.close();
    await inFlight.catch(() => undefined);
    const again = openAt(linkedModule);
    try {
      expect(moduleLeases(token.module)).toBe(2);
      await first.released;
      expect(moduleLeases(linkedModule)).toBe(1);
      await signsValid(again, 8);
      await again.startProfileSignWorkers();
      await signsValid(again, 8);
    } finally {
      again.close();
      await again.released;
    }
    expect(moduleLeases(token.module)).toBe(0);
  });

  it('closed and opened again 5 times without awaiting the release, workers signing each time: every signature valid, the library finalized at the end and usable after', async () => {
    const closed: Hsm[] = [];
    for (let round = 0; round < 5; round++) {
      const hsm = openAt(round % 2 === 0 ? token.module : linkedModule);
      await hsm.startProfileSignWorkers();
      await signsValid(hsm, 6);
      hsm.close();
      closed.push(hsm);
    }
    await Promise.all(closed.map((hsm) => hsm.released));
    expect(moduleLeases(token.module)).toBe(0);
    const fresh = openAt(linkedModule, 'softhsm2');
    try {
      await signsValid(fresh, 4);
    } finally {
      fresh.close();
    }
  });

  it('a lease given back twice counts once: the other holder’s library stays initialized', () => {
    const one = acquireModule(token.module);
    const other = acquireModule(linkedModule);
    try {
      expect(other.pkcs11).toBe(one.pkcs11);
      one.release();
      one.release();
      expect(moduleLeases(token.module)).toBe(1);
      expect(other.pkcs11.C_GetSlotList(true).length).toBeGreaterThan(0);
    } finally {
      other.release();
    }
    expect(moduleLeases(token.module)).toBe(0);
  });

  it('a spelling is looked up on the file system only while its library is not loaded: leased again after its symlink is removed, refused once the library is finalized', () => {
    const spelling = join(token.home, 'short-lived-pkcs11-module.so');
    symlinkSync(token.module, spelling);
    const first = acquireModule(spelling);
    rmSync(spelling);
    const second = acquireModule(spelling);
    try {
      expect(second.pkcs11).toBe(first.pkcs11);
      expect(moduleLeases(token.module)).toBe(2);
    } finally {
      first.release();
      second.release();
    }
    expect(moduleLeases(token.module)).toBe(0);
    expect(() => acquireModule(spelling)).toThrow(expect.objectContaining({ code: 'HSM_MODULE_NOT_FOUND' }));
  });
});
