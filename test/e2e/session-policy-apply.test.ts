/**
 * The app's session keeps reviewed requests for the operator to sign; a policy applied in between makes every
 * earlier review stale. A request reviewed under version 1 (allowed, 5 ETH) is not signed after version 2 is
 * applied with its version-1 review: signing asks for a new review, and the new review is under version 2.
 * Real session (the app's core), SoftHSM2, SQLite; the officers sign version 2 with the real CLI.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplianceSession } from '../../appliance/session.js';
import { createApplianceHome, type ApplianceHome } from '../support/appliance-home.js';

const PAYEE = '0x1111111111111111111111111111111111111111';

const policy = (version: number, maxAmount: string) => ({
  version,
  rules: [
    {
      id: 'payments',
      chain: 'evm',
      chainIds: [1],
      destinations: [{ address: PAYEE, label: 'Supplier' }],
      maxAmount,
      maxFee: '0.1',
      approvals: 0,
    },
  ],
});

let home: ApplianceHome;

beforeAll(() => {
  home = createApplianceHome({ keys: [{ chain: 'evm', label: 'treasury' }], policy: () => policy(1, '10') });
});
afterAll(() => home?.cleanup());

describe('a policy applied in the app session', () => {
  it('drops the reviews made under the previous version', async () => {
    const request = {
      type: 'transaction',
      from: home.keys.treasury!.address,
      chainId: 1,
      txType: 2,
      nonce: 0,
      to: PAYEE,
      value: '5000000000000000000',
      gasLimit: '21000',
      maxFeePerGas: '30000000000',
      maxPriorityFeePerGas: '1000000000',
    };
    const path = home.file('v2.json');
    writeFileSync(path, JSON.stringify({ ...policy(2, '1'), appliance: home.auditPublicKey }));
    home.signPolicy(path);

    const session = new ApplianceSession(home.cli.env.COLDSIGN_HOME!);
    try {
      await session.unlock(home.cli.env.COLDSIGN_PIN!);
      const input = [{ name: 'pay.json', bytes: new TextEncoder().encode(JSON.stringify(request)) }];
      const underV1 = await session.review(input);
      expect(underV1.decision.allowed).toBe(true);

      expect(await session.policyApply(readFileSync(path, 'utf8'))).toEqual({ version: 2 });
      await expect(session.sign(underV1.model.requestId, [])).rejects.toMatchObject({
        code: 'REQUEST_INVALID',
        message: expect.stringMatching(/has not been reviewed in this session/),
      });

      const underV2 = await session.review(input);
      expect(underV2.model.requestId).toBe(underV1.model.requestId);
      expect(underV2.decision.allowed).toBe(false);
    } finally {
      await session.close();
    }
  });
});
