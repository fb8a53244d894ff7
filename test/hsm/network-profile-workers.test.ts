/**
 * Sign workers for network-HSM profiles (issue 16): a real SoftHSM2 token configured AS IF it were a network
 * HSM (config profile "generic"; no network here), so the profile's sign workers start and every signature
 * goes through them. The SoftHSM2 profile, whose work is this host's CPU, starts none.
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

  it('a worker whose session was closed underneath still signs (new session, or the pool for that signature)', async () => {
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

  it('unlock starts the profile’s sign workers and lock stops them', async () => {
    const start = vi.spyOn(Hsm.prototype, 'startSignWorkers');
    const stop = vi.spyOn(Hsm.prototype, 'stopSignWorkers');
    const session = new ApplianceSession(cli.env.COLDSIGN_HOME);
    try {
      await session.unlock(PIN);
      expect(start).toHaveBeenCalledWith(NETWORK_SIGN_WORKERS);
      await expect(start.mock.results[0]!.value).resolves.toBeUndefined();
    } finally {
      await session.close();
      start.mockRestore();
    }
    expect(stop).toHaveBeenCalled();
    stop.mockRestore();
  });
});
