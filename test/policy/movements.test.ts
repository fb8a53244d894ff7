/** The movement checks on real summaries (chains/evm summarizer + policy/evaluate): what rules can allow. */
import { Wallet, ZeroAddress } from 'ethers';
import { describe, expect, it } from 'vitest';
import { isColdsignError } from '../../core/errors.js';
import { parsePolicy } from '../../policy/schema.js';
import {
  ATTACKER,
  ERC20,
  OPS,
  PAYROLL,
  USDC_MAINNET,
  delegationTx,
  execTransactionData,
  ownerSenderSignature,
  refundDrainFields,
  transaction,
  type Scene,
} from '../adversarial/evm/attacks.js';
import { judge, throwawayKey } from '../adversarial/evm/judge.js';

const key = throwawayKey('ops');
const SAFE = '0x5AfE3855358E112B5647b952709E6165e1c1eeeE'.toLowerCase();
const scene: Scene = { chainId: 1, ours: key.wallet.address, token: USDC_MAINNET, safe: SAFE };
const USDC = { contract: USDC_MAINNET, symbol: 'USDC', decimals: 6, maxAmount: '10' };

const rule = (extra: Record<string, unknown>) => ({
  version: 1,
  rules: [{ id: 'r', chain: 'evm', chainIds: [1], ...extra }],
});
const safeRule = (extra: Record<string, unknown> = {}) =>
  rule({
    kinds: ['contract_call'],
    contracts: [{ address: SAFE, selectors: ['0x6a761202'] }],
    tokens: [USDC],
    destinations: [{ address: PAYROLL, label: 'Payroll' }],
    ...extra,
  });
const safeExec = (overrides: Parameters<typeof refundDrainFields>[1]) =>
  transaction(scene, 0, {
    to: SAFE,
    data: execTransactionData(refundDrainFields(scene, overrides), ownerSenderSignature(scene.ours)),
  });

describe('Safe gas refunds', () => {
  const refund = {
    gasToken: ZeroAddress,
    refundReceiver: ATTACKER,
    safeTxGas: 50_000n,
    // with the bound's 40,000 + 518 × 5 words (docs/evm-requests.md "Safe gas refunds"): 100,000 gas in all
    baseGas: 7_410n,
    gasPrice: 10n ** 9n,
  };
  it('are refused without safeRefunds, allowed to a named receiver within its cap, refused above it', async () => {
    expect((await judge(safeExec(refund), [key.record], safeRule())).refusals[0]).toMatch(
      /gas refund of up to 0\.0001 ETH/,
    );
    const allowing = safeRule({
      safeRefunds: [{ receiver: ATTACKER, label: 'Relayer', asset: 'ETH', maxAmount: '0.0001' }],
    });
    expect((await judge(safeExec(refund), [key.record], allowing)).decision.allowed).toBe(true);
    const over = await judge(safeExec({ ...refund, baseGas: 7_411n }), [key.record], allowing);
    expect(over.refusals[0]).toMatch(
      /gas refund of up to 0\.0001000\d* ETH to Relayer, over the 0\.0001 cap/,
    );
    // The same receiver paid in a token the entry does not name.
    const inUsdc = await judge(
      safeExec({ ...refund, gasToken: USDC_MAINNET, gasPrice: 1n }),
      [key.record],
      allowing,
    );
    expect(inUsdc.decision.allowed).toBe(false);
  });
  it('to tx.origin (refundReceiver 0) of a transaction we sign is a refund to our own key: exempt', async () => {
    const summary = (
      await judge(safeExec({ ...refund, refundReceiver: ZeroAddress }), [key.record], safeRule())
    ).summary;
    expect(summary.movements.at(-1)).toMatchObject({
      channel: 'safe-refund',
      to: key.wallet.address,
      change: true,
    });
  });
});

describe('EIP-7702 delegations', () => {
  const authority = new Wallet(Wallet.createRandom().privateKey);
  const plain = rule({ kinds: ['transfer'], destinations: [{ address: OPS, label: 'Ops' }] });
  it('are allowed only when the rule names the delegate contract and the chain; chain id 0 only when listed', async () => {
    expect((await judge(delegationTx(scene, authority, 1n), [key.record], plain)).decision.allowed).toBe(
      false,
    );
    const named = rule({
      kinds: ['transfer'],
      destinations: [{ address: OPS, label: 'Ops' }],
      delegations: [{ contract: ATTACKER, label: 'Batcher', chainIds: [1] }],
    });
    expect((await judge(delegationTx(scene, authority, 1n), [key.record], named)).decision.allowed).toBe(
      true,
    );
    const anyChain = await judge(delegationTx(scene, authority, 0n), [key.record], named);
    expect(anyChain.refusals[0]).toMatch(/chain id 0 \(valid on every chain\)/);
    const zeroListed = structuredClone(named);
    (
      zeroListed.rules[0] as unknown as { delegations: Array<{ chainIds: number[] }> }
    ).delegations[0]!.chainIds = [1, 0];
    expect((await judge(delegationTx(scene, authority, 0n), [key.record], zeroListed)).decision.allowed).toBe(
      true,
    );
  });
});

describe('messages and chain ids (item 7)', () => {
  const login = { type: 'personal_sign', from: scene.ours, message: 'Sign in to example.org' };
  it('a message rule may omit chainIds or say "any"; a chain-bound rule still allows messages', async () => {
    const noChain = { version: 1, rules: [{ id: 'login', chain: 'evm', kinds: ['message'] }] };
    expect((await judge(login, [key.record], noChain)).decision.allowed).toBe(true);
    expect(
      (await judge(login, [key.record], rule({ chainIds: 'any', kinds: ['message'] }))).decision.allowed,
    ).toBe(true);
    expect((await judge(login, [key.record], rule({ kinds: ['message'] }))).decision.allowed).toBe(true);
  });
  it('caps the message size (default 1024 bytes, maxMessageBytes)', async () => {
    const long = { ...login, message: 'x'.repeat(1025) };
    expect((await judge(long, [key.record], rule({ kinds: ['message'] }))).refusals[0]).toMatch(
      /1025 bytes; rule r allows at most 1024/,
    );
    expect(
      (await judge(long, [key.record], rule({ kinds: ['message'], maxMessageBytes: 2048 }))).decision.allowed,
    ).toBe(true);
  });
  it('schema: chainIds stay required for other kinds; a safeRefunds token must be listed', () => {
    const invalid = (doc: unknown) => {
      try {
        parsePolicy(doc);
        return null;
      } catch (error) {
        return isColdsignError(error, 'POLICY_INVALID') ? (error as Error).message : String(error);
      }
    };
    expect(
      invalid({ version: 1, rules: [{ id: 'x', chain: 'evm', kinds: ['message', 'transfer'] }] }),
    ).toMatch(/chainIds/);
    expect(invalid({ version: 1, rules: [{ id: 'x', chain: 'evm' }] })).toMatch(/chainIds/);
    expect(
      invalid(
        rule({ safeRefunds: [{ receiver: ATTACKER, label: 'r', asset: USDC_MAINNET, maxAmount: '1' }] }),
      ),
    ).toMatch(/safeRefunds\[0\]\.asset/);
    expect(invalid(rule({ tokens: [{ ...USDC, approvalMaxDeadline: '30 days' }] }))).toMatch(
      /approvalMaxDeadline/,
    );
  });
});

describe('our own key is exempt from amounts only', () => {
  it('an approval to our own key on an unlisted token is still refused; on a listed one its amount is exempt', async () => {
    const approveSelf = (token: string) =>
      transaction(scene, 0, {
        to: token,
        data: ERC20.encodeFunctionData('approve', [scene.ours, 10n ** 30n]),
      });
    const doc = rule({ kinds: ['contract_call'], tokens: [USDC] });
    expect((await judge(approveSelf(ATTACKER), [key.record], doc)).decision.allowed).toBe(false);
    expect((await judge(approveSelf(USDC_MAINNET), [key.record], doc)).decision.allowed).toBe(true);
  });
});

describe('closest rule (item 13)', () => {
  it('a rule whose scope fits comes first even when another failed on fewer reasons', async () => {
    const doc = {
      version: 1,
      rules: [
        {
          id: 'tok-ops',
          chain: 'evm',
          chainIds: [1],
          keys: ['someone-else'],
          kinds: ['contract_call'],
          tokens: [USDC],
          contracts: [{ address: SAFE, selectors: ['0x6a761202'] }],
        },
        {
          id: 'safe-ops',
          chain: 'evm',
          chainIds: [1],
          kinds: ['contract_call'],
          contracts: [{ address: SAFE, selectors: ['0x6a761202'] }],
          tokens: [USDC],
          destinations: [{ address: PAYROLL, label: 'P' }],
        },
      ],
    };
    const delegatecall = safeExec({ operation: 1, gasPrice: 0n, data: '0x12345678', to: ATTACKER });
    const { decision } = await judge(delegatecall, [key.record], doc);
    expect(decision.closestRule).toBe('safe-ops');
    expect(decision.reasons[0]!.rule).toBe('safe-ops');
    expect(
      decision.reasons
        .filter((r) => r.rule === 'safe-ops')
        .map((r) => r.message)
        .join(' '),
    ).toMatch(/delegatecall/);
    expect(decision.reasons.some((r) => r.rule === 'tok-ops')).toBe(true);
  });
});
