/**
 * Sign workers for network-HSM profiles (issue 16): a real SoftHSM2 token configured AS IF it were a network
 * HSM (config profile "generic"; no network here), so the profile's sign workers start (at the first signature)
 * and every signature goes through them. The SoftHSM2 profile, whose work is this host's CPU, starts none.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApplianceSession } from '../../appliance/session.js';
import { concatBytes } from '../../core/bytes.js';
import { Hsm } from '../../hsm/index.js';
import type { HsmKey } from '../../hsm/keystore.js';
import { NETWORK_SIGN_WORKERS } from '../../hsm/profile.js';
import { createCliHome, type CliHome } from '../support/cli.js';
import { createTestToken, TEST_PIN, type TestToken } from '../support/softhsm.js';

let token: TestToken;
let key: HsmKey;

const openAs = (profile: 'generic' | 'softhsm2') =>
  Hsm.open({ module: token.module, token: token.token, profile }, TEST_PIN, { size: 2 });

beforeAll(async () => {
  token = createTestToken('coldsign-network-profile');
  const setup = openAs('softhsm2');
  key = await setup.keys.generate('network-key');
  setup.close();
});

afterAll(() => token?.cleanup());

describe('sign workers by profile (SoftHSM2 configured as a network profile)', () => {
  it('the generic (network) profile starts its sign workers and signs through them: low-S, verified, compressed key', async () => {
    const hsm = openAs('generic');
    try {
      expect(await hsm.startProfileSignWorkers()).toBe(NETWORK_SIGN_WORKERS);
      expect(hsm.signer.workers).toBeDefined();
      const compressed = secp256k1.Point.fromBytes(key.publicKey).toBytes(true);
      const digests = Array.from({ length: 24 }, () => new Uint8Array(randomBytes(32)));
      const signatures = await Promise.all(
        digests.map((d) => hsm.signer.signDigest(key.keyId, compressed, d)),
      );
      signatures.forEach((signature, i) => {
        const compact = concatBytes(signature.r, signature.s);
        expect(secp256k1.verify(compact, digests[i]!, compressed, { prehash: false, lowS: true })).toBe(true);
      });
    } finally {
      await hsm.stopSignWorkers();
      hsm.close();
    }
  });

  it('a worker whose session was closed underneath opens a new one and still signs', async () => {
    const hsm = openAs('generic');
    try {
      await hsm.startProfileSignWorkers();
      hsm.pkcs11.C_CloseAllSessions(hsm.slot);
      const digests = Array.from({ length: 12 }, () => new Uint8Array(randomBytes(32)));
      for (const digest of digests) {
        const signature = await hsm.signer.signDigest(key.keyId, key.publicKey, digest);
        expect(
          secp256k1.verify(concatBytes(signature.r, signature.s), digest, key.publicKey, { prehash: false }),
        ).toBe(true);
      }
    } finally {
      await hsm.stopSignWorkers();
      hsm.close();
    }
  });

  it('workers started and stopped 6 times in one process, each time signing: every signature valid (the process survives)', async () => {
    // Regression: a native addon loaded in every worker (secp256k1's binding) corrupted the heap on restarts.
    for (let round = 0; round < 6; round++) {
      const hsm = openAs('generic');
      try {
        await hsm.startProfileSignWorkers();
        const digests = Array.from({ length: 8 }, () => new Uint8Array(randomBytes(32)));
        const signatures = await Promise.all(
          digests.map((d) => hsm.signer.signDigest(key.keyId, key.publicKey, d)),
        );
        signatures.forEach((signature, i) => {
          const compact = concatBytes(signature.r, signature.s);
          expect(secp256k1.verify(compact, digests[i]!, key.publicKey, { prehash: false })).toBe(true);
        });
      } finally {
        await hsm.stopSignWorkers();
        hsm.close();
      }
    }
  });

  it('the profile’s workers start once per connection however many callers ask', async () => {
    const hsm = openAs('generic');
    const start = vi.spyOn(hsm, 'startSignWorkers');
    try {
      const counts = await Promise.all([hsm.startProfileSignWorkers(), hsm.startProfileSignWorkers()]);
      expect(counts).toEqual([NETWORK_SIGN_WORKERS, NETWORK_SIGN_WORKERS]);
      expect(await hsm.startProfileSignWorkers()).toBe(NETWORK_SIGN_WORKERS);
      expect(start).toHaveBeenCalledTimes(1);
    } finally {
      await hsm.stopSignWorkers();
      hsm.close();
    }
  });

  it('closing without stopping the workers first waits for them before finalizing: the module can be opened again and sign', async () => {
    const first = openAs('generic');
    await first.startProfileSignWorkers();
    const pending = first.signer.signDigest(key.keyId, key.publicKey, new Uint8Array(randomBytes(32)));
    first.close();
    await pending.catch(() => undefined);
    const again = openAs('softhsm2');
    try {
      const digest = new Uint8Array(randomBytes(32));
      const signature = await again.signer.signDigest(key.keyId, key.publicKey, digest);
      expect(
        secp256k1.verify(concatBytes(signature.r, signature.s), digest, key.publicKey, { prehash: false }),
      ).toBe(true);
    } finally {
      again.close();
      await first.released;
    }
  });

  it('the softhsm2 profile starts none: the signer stays on the session pool', async () => {
    const hsm = openAs('softhsm2');
    try {
      expect(await hsm.startProfileSignWorkers()).toBe(0);
      expect(hsm.signer.workers).toBeUndefined();
    } finally {
      hsm.close();
    }
  });
});

describe('the appliance on a home configured with a network profile (SoftHSM2 as "generic")', () => {
  const PIN = '135790';
  let cli: CliHome;

  beforeAll(() => {
    cli = createCliHome(PIN);
    const init = cli.run(['init']);
    expect(init.code, init.stderr).toBe(0);
    const configPath = join(cli.env.COLDSIGN_HOME!, 'config.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as { hsm: Record<string, unknown> };
    config.hsm.profile = 'generic';
    writeFileSync(configPath, JSON.stringify(config, null, 2));
  });

  afterAll(() => cli?.cleanup());

  it('unlock starts no sign workers (they start at the first signature); lock closes cleanly', async () => {
    const start = vi.spyOn(Hsm.prototype, 'startSignWorkers');
    const session = new ApplianceSession(cli.env.COLDSIGN_HOME);
    try {
      const unlocked = await session.unlock(PIN);
      expect(unlocked.keys).toBeDefined();
      expect(start).not.toHaveBeenCalled();
    } finally {
      await session.close();
      start.mockRestore();
    }
  });
});
