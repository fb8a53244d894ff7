/**
 * `coldsign sign` as a whole process on a home whose HSM profile is "generic" (a network HSM; here the real
 * SoftHSM2 token stands in for it): the profile's sign workers start at the first signature, sign every input,
 * and the process closes the module after they exit. An independent library accepts the signed PSBT.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPsbt, checkSignedPsbt } from '../../scripts/demo/coordinator.js';
import { createApplianceHome, type ApplianceHome } from '../support/appliance-home.js';
import { EXCHANGE, treasuryPolicy } from '../support/treasury-policy.js';

let appliance: ApplianceHome;
const file = (name: string) => join(appliance.cli.dir, name);

beforeAll(() => {
  appliance = createApplianceHome({
    officers: ['alice', 'bob'],
    keys: [{ chain: 'btc', label: 'vault-btc' }],
    policy: () => treasuryPolicy(1),
  });
  const configPath = join(appliance.cli.env.COLDSIGN_HOME!, 'config.json');
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as { hsm: Record<string, unknown> };
  config.hsm.profile = 'generic';
  writeFileSync(configPath, JSON.stringify(config, null, 2));
});
afterAll(() => appliance?.cli.cleanup());

describe('sign on a network-HSM profile (sign workers)', () => {
  it('signs a 3-input PSBT through the workers, exits 0 and the result finalizes in @scure/btc-signer', () => {
    const address = appliance.keys['vault-btc']!.address;
    writeFileSync(
      file('three.psbt'),
      buildPsbt(address, EXCHANGE, 10_000_000n, 2_000n, [4_000_000n, 4_000_000n, 4_000_000n]),
    );
    const out = file('three.signed.psbt.txt');
    const result = appliance.cli.run(['sign', file('three.psbt'), '--out', out, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json<{ status: string }>().status).toBe('signed');
    const signed = Uint8Array.from(Buffer.from(readFileSync(out, 'utf8').trim(), 'base64'));
    expect(checkSignedPsbt(signed)).toMatch(/^[0-9a-f]{64}$/);
    // The home stays consistent after the workers' process exit: the audit log verifies in full.
    const verify = appliance.cli.run(['audit', 'verify', '--json']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});
