/**
 * A DAI permit whose `allowed` is not a JSON boolean (RT-1). ethers' EIP-712 encoder hashes any truthy value as
 * the bool true, so `"allowed": "false"` ("0", 1, {}) is an UNLIMITED, never-expiring DAI allowance, while coldsign
 * read it (`allowed === true`) as a zero approval. Shown real: ethers signs the loose document with a throwaway key,
 * and viem (independent of ethers) recovers that key from the permit with allowed = true. coldsign now refuses the
 * document before hashing it: EVM_TYPED_DATA_INVALID, naming the field.
 */
import { TypedDataEncoder, getAddress } from 'ethers';
import { describe, expect, it } from 'vitest';
import { recoverTypedDataAddress } from 'viem';
import { isColdsignError } from '../../../core/errors.js';
import { DAI, ROUTER } from './attacks.js';
import { NOW_S, judge, throwawayKey } from './judge.js';
import { eip712DomainType } from '../../support/eip712-types.js';

const DOMAIN = { name: 'Dai Stablecoin', version: '1', chainId: 1, verifyingContract: DAI };
const PERMIT = [
  { name: 'holder', type: 'address' },
  { name: 'spender', type: 'address' },
  { name: 'nonce', type: 'uint256' },
  { name: 'expiry', type: 'uint256' },
  { name: 'allowed', type: 'bool' },
];
const EXPIRY = NOW_S + 3600n;

/** DAI permits to the router of at most 1000 DAI for a day, never unlimited. */
const policy = {
  version: 1,
  rules: [
    {
      id: 'dai-permits',
      chain: 'evm',
      chainIds: [1],
      kinds: ['typed_data'],
      tokens: [
        { contract: DAI, symbol: 'DAI', decimals: 18, approvalMaxAmount: '1000', approvalMaxDeadline: '1d' },
      ],
      destinations: [{ address: ROUTER, label: 'DEX router' }],
      typedDataDomains: [{ name: 'Dai Stablecoin', chainId: 1, verifyingContract: DAI }],
    },
  ],
};

function permitRequest(holder: string, allowed: unknown) {
  return {
    type: 'typed_data',
    from: holder,
    typedData: {
      types: {
        EIP712Domain: eip712DomainType(DOMAIN),
        Permit: PERMIT,
      },
      primaryType: 'Permit',
      domain: DOMAIN,
      message: { holder, spender: ROUTER, nonce: '0', expiry: EXPIRY.toString(), allowed },
    },
  };
}

async function refusalCode(request: unknown, key: ReturnType<typeof throwawayKey>): Promise<string> {
  try {
    await judge(request, [key.record], policy);
  } catch (error) {
    if (isColdsignError(error)) return `${error.code}: ${error.message}`;
    throw error;
  }
  return 'accepted';
}

describe('DAI permit with a non-boolean `allowed` (RT-1)', () => {
  for (const allowed of ['false', '0', 1, {}] as unknown[]) {
    it(`allowed = ${JSON.stringify(allowed)}: signed as allowed = true; coldsign refuses the document`, async () => {
      const key = throwawayKey();
      const holder = key.wallet.address;
      // The attack is real: a wallet hashing with ethers signs an unlimited permit.
      const signature = await key.wallet.signTypedData(
        DOMAIN,
        { Permit: PERMIT },
        { holder, spender: ROUTER, nonce: 0, expiry: EXPIRY, allowed },
      );
      const permit = {
        domain: { ...DOMAIN, verifyingContract: DAI as `0x${string}` },
        types: { Permit: PERMIT },
        primaryType: 'Permit' as const,
        message: { holder, spender: ROUTER, nonce: 0n, expiry: EXPIRY, allowed: true },
      };
      const signer = await recoverTypedDataAddress({ ...permit, signature: signature as `0x${string}` });
      expect(getAddress(signer)).toBe(holder);

      expect(await refusalCode(permitRequest(holder, allowed), key)).toBe(
        'EVM_TYPED_DATA_INVALID: Typed data field message.allowed (bool) must be a JSON boolean (true or false).',
      );
    });
  }

  it('control: allowed = true is the unlimited permit it is and the policy refuses it; allowed = false is a zero approval', async () => {
    const key = throwawayKey();
    const unlimited = await judge(permitRequest(key.wallet.address, true), [key.record], policy);
    expect(unlimited.summary.movements[0]).toMatchObject({ channel: 'approval', unbounded: true });
    expect(unlimited.decision.allowed).toBe(false);
    expect(unlimited.refusals.join('\n')).toMatch(/unlimited spending approval/);
    const revoke = await judge(permitRequest(key.wallet.address, false), [key.record], policy);
    expect(revoke.summary.movements[0]).toMatchObject({ channel: 'approval', raw: '0' });
    expect(revoke.decision.allowed).toBe(true);
    // and it hashes as allowed = false
    expect(revoke.summary.details.signingHash).toBe(
      TypedDataEncoder.hash(
        DOMAIN,
        { Permit: PERMIT },
        {
          holder: key.wallet.address,
          spender: ROUTER,
          nonce: 0,
          expiry: EXPIRY,
          allowed: false,
        },
      ),
    );
  });
});
