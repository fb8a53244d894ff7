import { describe, expect, it } from 'vitest';
import type { Movement, SigningSummary } from '../../core/summary.js';
import { evaluate, policyKindOf } from '../../policy/evaluate.js';
import { parsePolicy } from '../../policy/schema.js';
import type { VelocityRecord } from '../../policy/velocity.js';
import {
  BTC,
  btcTransfer,
  CHANGE,
  EXCHANGE,
  NOW,
  PAYROLL,
  ROUTER,
  specPolicy,
  usdcTransfer,
  USDC,
} from './fixtures.js';

const policy = specPolicy();
const messagesOf = (summary: SigningSummary, history: VelocityRecord[] = [], now = NOW, doc = policy) =>
  evaluate(summary, doc, history, now)
    .reasons.filter((r) => !r.ok)
    .map((r) => r.message);

describe('evaluate: SPEC example policy', () => {
  it('allows 0.4 BTC to the exchange with change back, requiring 2 approvals', () => {
    const decision = evaluate(
      btcTransfer([
        { to: EXCHANGE, sat: 40_000_000n },
        { to: CHANGE, sat: 5n * BTC, change: true },
      ]),
      policy,
      [],
      NOW,
    );
    expect(decision).toMatchObject({ allowed: true, rule: 'btc-cold-to-exchange', requiredApprovals: 2 });
    expect(decision.reasons.at(-1)).toEqual({
      rule: 'btc-cold-to-exchange',
      ok: true,
      message: 'Rule btc-cold-to-exchange allows this request; it needs 2 officer approvals.',
    });
  });

  it('says in operator words that 0.8 BTC exceeds the 0.5 BTC limit', () => {
    const decision = evaluate(btcTransfer([{ to: EXCHANGE, sat: 80_000_000n }]), policy, [], NOW);
    expect(decision).toMatchObject({ allowed: false, rule: null });
    expect(decision.reasons).toContainEqual({
      rule: 'btc-cold-to-exchange',
      ok: false,
      message: '0.8 BTC exceeds the 0.5 BTC limit of rule btc-cold-to-exchange.',
    });
    expect(decision.reasons).toContainEqual({
      rule: 'usdc-payroll',
      ok: false,
      message: 'Rule usdc-payroll is for EVM chains; this is a Bitcoin request.',
    });
    expect(decision.reasons.at(-1)).toEqual({
      rule: '(default)',
      ok: false,
      message: 'No rule allows this request (default deny).',
    });
  });

  it('compares exactly at the limit: 0.5 BTC passes, 0.50000001 BTC does not', () => {
    expect(evaluate(btcTransfer([{ to: EXCHANGE, sat: 50_000_000n }]), policy, [], NOW).allowed).toBe(true);
    expect(messagesOf(btcTransfer([{ to: EXCHANGE, sat: 50_000_001n }]))).toContain(
      '0.50000001 BTC exceeds the 0.5 BTC limit of rule btc-cold-to-exchange.',
    );
  });

  it('sums the outputs of one request against the limit (splitting does not evade it)', () => {
    const split = btcTransfer([
      { to: EXCHANGE, sat: 30_000_000n },
      { to: EXCHANGE, sat: 30_000_000n },
    ]);
    expect(messagesOf(split)).toContain('0.6 BTC exceeds the 0.5 BTC limit of rule btc-cold-to-exchange.');
  });

  it('does not treat change as a destination, but refuses an unknown destination', () => {
    expect(messagesOf(btcTransfer([{ to: 'bc1qattacker', sat: 1000n }]))).toContain(
      'Destination bc1qattacker is not in the allowlist of rule btc-cold-to-exchange.',
    );
    expect(messagesOf(btcTransfer([{ to: EXCHANGE.toUpperCase(), sat: 1000n }]))).toEqual([]);
  });

  it('refuses outputs without an address that carry value', () => {
    expect(messagesOf(btcTransfer([{ to: null, sat: 1000n }]))[0]).toMatch(/output without an address/);
  });

  it('caps the fee rate', () => {
    expect(messagesOf(btcTransfer([{ to: EXCHANGE, sat: 1000n }], 5000n, 80))).toContain(
      'The fee rate of 80 sat/vB exceeds the 50 sat/vB cap of rule btc-cold-to-exchange.',
    );
  });

  it('refuses another network and another key', () => {
    const testnet = { ...btcTransfer([{ to: EXCHANGE, sat: 1000n }]), network: 'testnet' as const };
    expect(messagesOf(testnet)[0]).toMatch(/Bitcoin testnet; rule btc-cold-to-exchange allows mainnet only/);
    const other = { ...btcTransfer([{ to: EXCHANGE, sat: 1000n }]), signingKeys: ['vault-2'] };
    expect(messagesOf(other)).toContain('Key vault-2 is not one of the keys of rule btc-cold-to-exchange.');
  });

  it('allows USDC payroll within the token limit with 1 approval, refuses above it and other tokens', () => {
    expect(evaluate(usdcTransfer(PAYROLL, 25_000n * 10n ** 6n), policy, [], NOW)).toMatchObject({
      allowed: true,
      rule: 'usdc-payroll',
      requiredApprovals: 1,
    });
    expect(messagesOf(usdcTransfer(PAYROLL, 25_000n * 10n ** 6n + 1n))).toContain(
      '25000.000001 USDC exceeds the 25000 USDC limit of rule usdc-payroll.',
    );
    const dai = usdcTransfer(PAYROLL, 1n);
    dai.movements[1]!.asset = { type: 'token', contract: ROUTER, symbol: 'DAI', decimals: 18 };
    expect(messagesOf(dai)).toContain('A transfer of token DAI, which rule usdc-payroll does not list.');
  });

  it('caps the EVM fee absolutely', () => {
    expect(messagesOf(usdcTransfer(PAYROLL, 1n, 2n * 10n ** 16n))).toContain(
      'The fee of 0.02 ETH exceeds the 0.01 ETH fee cap of rule usdc-payroll.',
    );
  });

  it('without a policy, denies everything', () => {
    expect(evaluate(btcTransfer([{ to: EXCHANGE, sat: 1n }]), null, [], NOW)).toMatchObject({
      allowed: false,
      reasons: [{ rule: '(default)' }],
    });
  });
});

describe('evaluate: kinds, calls, typed data, blind, hours', () => {
  const evmRule = (extra: Record<string, unknown>) =>
    parsePolicy({
      version: 1,
      rules: [{ id: 'r', chain: 'evm', chainIds: [1], anyDestination: true, ...extra }],
    });
  const callMovement = (contract: string, selector: string): Movement => ({
    channel: 'call',
    to: contract,
    raw: '0',
    amount: '0',
    asset: { type: 'native', symbol: 'ETH' },
    change: false,
    selector,
  });
  const call = (selector: string, extra: Partial<SigningSummary> = {}): SigningSummary => ({
    ...usdcTransfer(PAYROLL, 0n),
    movements: [callMovement(ROUTER, selector)],
    call: { contract: ROUTER, selector, name: null, args: {} },
    ...extra,
  });

  it('derives the policy kind', () => {
    expect(policyKindOf(usdcTransfer(PAYROLL, 1n))).toBe('token_transfer');
    expect(policyKindOf(call('0x12345678'))).toBe('contract_call');
    expect(policyKindOf(btcTransfer([]))).toBe('transfer');
    expect(policyKindOf({ ...call('0x12345678'), kind: 'message' })).toBe('message');
  });

  it('allows contract calls only to listed contracts and selectors', () => {
    const doc = evmRule({
      kinds: ['contract_call'],
      contracts: [{ address: ROUTER, label: 'Router', selectors: ['0x12345678'] }],
    });
    expect(evaluate(call('0x12345678'), doc, [], NOW).allowed).toBe(true);
    expect(messagesOf(call('0x87654321'), [], NOW, doc)).toContain(
      'Function 0x87654321 of Router is not allowed by rule r.',
    );
    expect(
      messagesOf(
        {
          ...call('0x12345678'),
          movements: [callMovement(USDC, '0x12345678')],
          call: { contract: USDC, selector: '0x12345678', name: null, args: {} },
        },
        [],
        NOW,
        doc,
      )[0],
    ).toMatch(/not in the contract allowlist/);
    expect(
      messagesOf(
        call('0x12345678'),
        [],
        NOW,
        evmRule({ contracts: [{ address: ROUTER, selectors: ['0x12345678'] }] }),
      ),
    ).toContain('Rule r does not allow requests of kind contract call.');
  });

  it('denies blind calldata unless the rule allows it', () => {
    const doc = evmRule({
      kinds: ['contract_call'],
      contracts: [{ address: ROUTER, selectors: ['0x12345678'] }],
    });
    const blind = call('0x12345678', { blind: true });
    expect(messagesOf(blind, [], NOW, doc)[0]).toMatch(/not understood \(blind signing\)/);
    const allowing = evmRule({
      kinds: ['contract_call'],
      allowBlind: true,
      contracts: [{ address: ROUTER, selectors: ['0x12345678'] }],
    });
    expect(evaluate(blind, allowing, [], NOW).allowed).toBe(true);
  });

  it('refuses unlimited approvals and unlisted spenders', () => {
    const doc = parsePolicy({
      version: 1,
      rules: [
        {
          id: 'r',
          chain: 'evm',
          chainIds: [1],
          kinds: ['contract_call'],
          destinations: [{ address: PAYROLL, label: 'P' }],
          tokens: [{ contract: USDC, symbol: 'USDC', decimals: 6 }],
          contracts: [{ address: USDC, selectors: ['0x095ea7b3'] }],
        },
      ],
    });
    const approve = (spender: string, unlimited: boolean) =>
      call('0x095ea7b3', {
        movements: [
          callMovement(USDC, '0x095ea7b3'),
          {
            channel: 'approval',
            to: spender,
            raw: unlimited ? (2n ** 256n - 1n).toString() : '5',
            amount: null,
            asset: { type: 'token', contract: USDC, symbol: 'USDC', decimals: 6 },
            change: false,
            ...(unlimited ? { unbounded: true } : {}),
          },
        ],
        call: {
          contract: USDC,
          selector: '0x095ea7b3',
          name: 'approve(address,uint256)',
          args: { spender },
          spendingApproval: true,
          unlimited,
        },
      });
    expect(evaluate(approve(PAYROLL, false), doc, [], NOW).allowed).toBe(true);
    expect(messagesOf(approve(PAYROLL, true), [], NOW, doc)[0]).toMatch(/unlimited spending approval/);
    expect(messagesOf(approve(ROUTER, false), [], NOW, doc)[0]).toMatch(
      /Spender 0x2222.* is not in the destination allowlist of rule r/,
    );
  });

  it('allows typed data only for listed EIP-712 domains', () => {
    const doc = evmRule({
      kinds: ['typed_data'],
      typedDataDomains: [{ name: 'Permit2', chainId: 1, verifyingContract: ROUTER }],
    });
    const typed = (domain: Record<string, string>): SigningSummary => ({
      ...call('0x00000000'),
      movements: [],
      kind: 'typed_data',
      call: undefined,
      fee: null,
      typedData: { domain, primaryType: 'X' },
    });
    expect(
      evaluate(
        typed({ name: 'Permit2', chainId: '1', verifyingContract: ROUTER.toUpperCase().replace('0X', '0x') }),
        doc,
        [],
        NOW,
      ).allowed,
    ).toBe(true);
    expect(
      messagesOf(typed({ name: 'Permit2', chainId: '5', verifyingContract: ROUTER }), [], NOW, doc),
    ).toContain('The EIP-712 domain "Permit2" is not in the domain allowlist of rule r.');
  });

  it('signs messages only when the rule lists the message kind', () => {
    const message: SigningSummary = {
      ...call('0x00000000'),
      movements: [],
      kind: 'message',
      call: undefined,
      fee: null,
      message: { text: 'hi', hex: '6869' },
    };
    expect(evaluate(message, evmRule({ kinds: ['message'] }), [], NOW).allowed).toBe(true);
    expect(evaluate(message, evmRule({}), [], NOW).allowed).toBe(false);
  });

  it('limits signing hours (UTC), including windows across midnight', () => {
    const doc = (from: string, to: string) => evmRule({ hours: { from, to } });
    const transfer = usdcTransfer(PAYROLL, 0n);
    transfer.movements = [];
    transfer.call = undefined;
    expect(evaluate(transfer, doc('09:00', '17:00'), [], new Date('2026-03-02T16:59:59Z')).allowed).toBe(
      true,
    );
    expect(evaluate(transfer, doc('09:00', '17:00'), [], new Date('2026-03-02T17:00:00Z')).allowed).toBe(
      false,
    );
    expect(evaluate(transfer, doc('22:00', '06:00'), [], new Date('2026-03-02T05:59:00Z')).allowed).toBe(
      true,
    );
    expect(evaluate(transfer, doc('22:00', '06:00'), [], new Date('2026-03-02T12:00:00Z')).allowed).toBe(
      false,
    );
    const weekdays = evmRule({ hours: { from: '00:00', to: '23:59', days: ['mon'] } });
    expect(evaluate(transfer, weekdays, [], new Date('2026-03-02T10:00:00Z')).allowed).toBe(true); // a Monday
    expect(evaluate(transfer, weekdays, [], new Date('2026-03-03T10:00:00Z')).allowed).toBe(false);
  });

  it('caps the fee as a share of the amount, exactly', () => {
    const doc = parsePolicy({
      version: 1,
      rules: [{ id: 'r', chain: 'btc', network: 'mainnet', anyDestination: true, maxFeePercent: 1.5 }],
    });
    expect(evaluate(btcTransfer([{ to: EXCHANGE, sat: 100_000n }], 1500n), doc, [], NOW).allowed).toBe(true);
    expect(messagesOf(btcTransfer([{ to: EXCHANGE, sat: 100_000n }], 1501n), [], NOW, doc)).toContain(
      'The fee of 0.00001501 BTC is more than 1.5% of the 0.001 BTC sent (rule r).',
    );
  });

  it('caps native ETH transfers in wei, exactly', () => {
    const doc = evmRule({ kinds: ['transfer'], maxAmount: '1.5', maxFeePercent: 0.1 });
    const eth = (wei: bigint, feeWei: bigint): SigningSummary => ({
      ...usdcTransfer(PAYROLL, 0n),
      call: undefined,
      movements: [
        {
          to: PAYROLL,
          raw: wei.toString(),
          amount: null,
          asset: { type: 'native', symbol: 'ETH' },
          change: false,
        },
      ],
      fee: { raw: feeWei.toString(), amount: '0' },
    });
    const WEI = 10n ** 18n;
    expect(policyKindOf(eth(WEI, 1n))).toBe('transfer');
    // The most the fee can take counts with the value (EIP-1559 gasLimit × maxFeePerGas leaves our account too).
    const value = (3n * WEI) / 2n - WEI / 1000n;
    expect(evaluate(eth(value, WEI / 1000n), doc, [], NOW).allowed).toBe(true);
    expect(messagesOf(eth(value, WEI / 1000n + 1n), [], NOW, doc)).toContain(
      '1.500000000000000001 ETH exceeds the 1.5 ETH limit of rule r.',
    );
    expect(messagesOf(eth(WEI, WEI / 1000n + 1n), [], NOW, doc)[0]).toMatch(
      /is more than 0.1% of the 1 ETH sent/,
    );
  });

  it('the first matching rule decides the approvals', () => {
    const doc = parsePolicy({
      version: 1,
      rules: [
        {
          id: 'small',
          chain: 'btc',
          network: 'mainnet',
          anyDestination: true,
          maxAmount: '0.1',
          approvals: 0,
        },
        {
          id: 'large',
          chain: 'btc',
          network: 'mainnet',
          anyDestination: true,
          maxAmount: '10',
          approvals: 3,
        },
      ],
    });
    expect(evaluate(btcTransfer([{ to: EXCHANGE, sat: BTC / 20n }]), doc, [], NOW)).toMatchObject({
      rule: 'small',
      requiredApprovals: 0,
    });
    expect(evaluate(btcTransfer([{ to: EXCHANGE, sat: BTC }]), doc, [], NOW)).toMatchObject({
      rule: 'large',
      requiredApprovals: 3,
    });
  });
});

describe('evaluate: velocity over a rolling window', () => {
  const H = 3_600_000;
  const record = (msAgo: number, sat: bigint, requestId = `r${msAgo}`): VelocityRecord => ({
    requestId,
    rule: 'btc-cold-to-exchange',
    asset: 'native',
    raw: sat.toString(),
    timeMs: NOW.getTime() - msAgo,
  });

  it('counts amounts signed within the last 24h, exactly at the boundary', () => {
    const request = btcTransfer([{ to: EXCHANGE, sat: 50_000_000n }]);
    const spent = [record(1 * H, 50_000_000n), record(2 * H, 50_000_000n), record(3 * H, 50_000_000n)];
    // 1.5 BTC already + 0.5 = 2 BTC: exactly the limit
    expect(evaluate(request, policy, spent, NOW).allowed).toBe(true);
    // one more satoshi within the window is too much...
    const inside = [...spent, record(24 * H - 1, 1n)];
    expect(messagesOf(request, inside)).toContain(
      '2.00000001 BTC within 24h (1.50000001 BTC already signed) exceeds the 2 BTC velocity limit of rule btc-cold-to-exchange.',
    );
    // ...but a signature exactly 24h ago has left the window
    expect(evaluate(request, policy, [...spent, record(24 * H, 1n)], NOW).allowed).toBe(true);
  });

  it('counts signed requests, and only those of the same rule', () => {
    const request = btcTransfer([{ to: EXCHANGE, sat: 1n }]);
    const nine = Array.from({ length: 9 }, (_, i) => record(i * 1000 + 1, 1n));
    expect(evaluate(request, policy, nine, NOW).allowed).toBe(true);
    const ten = [...nine, record(20_000, 1n)];
    expect(messagesOf(request, ten)).toContain(
      'Rule btc-cold-to-exchange allows 10 signed requests per 24h; 10 were already signed.',
    );
    expect(
      evaluate(
        request,
        policy,
        ten.map((r) => ({ ...r, rule: 'other' })),
        NOW,
      ).allowed,
    ).toBe(true);
  });
});
