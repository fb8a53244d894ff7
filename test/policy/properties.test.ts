/** Property tests (fast-check): whatever the policy and the request, nothing allowed exceeds a limit or leaves the allowlist. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SigningSummary } from '../../core/summary.js';
import { formatUnits, toBaseUnits } from '../../policy/amounts.js';
import { evaluate } from '../../policy/evaluate.js';
import { parsePolicy, type PolicyRule } from '../../policy/schema.js';
import { usageInWindow, windowMs, type VelocityRecord } from '../../policy/velocity.js';
import { NOW } from './fixtures.js';

/** Valid mainnet addresses (P2WPKH, P2SH, P2PKH): allowlists refuse addresses that can never match. */
const ADDRESSES = [
  'bc1qqyqszqgpqyqszqgpqyqszqgpqyqszqgpyfl4f3',
  'bc1qqgpqyqszqgpqyqszqgpqyqszqgpqyqsz4desz8',
  'bc1qqvpsxqcrqvpsxqcrqvpsxqcrqvpsxqcr5ac3gx',
  'bc1qqszqgpqyqszqgpqyqszqgpqyqszqgpqy5dl506',
  '329ZKGh9pVe72YoH88HEBPrg7xt8Q5QoBr',
  '1YrGg3TKiBsKripCdjm77zgy8WhDYmUH5',
];
const TOKENS = ['0x' + '1'.repeat(40), '0x' + '2'.repeat(40), '0x' + '3'.repeat(40)];
const EVM_ADDRESSES = [
  '0x' + 'a'.repeat(40),
  '0x' + 'b'.repeat(40),
  '0x' + 'c'.repeat(40),
  '0x' + 'd'.repeat(40),
];
const H = 3_600_000;

const sat = (max: bigint) => fc.bigInt({ min: 0n, max });
const limit = (max: bigint, decimals: number) => sat(max).map((v) => formatUnits(v, decimals));

const btcRule = (id: string) =>
  fc.record(
    {
      id: fc.constant(id),
      chain: fc.constant('btc' as const),
      network: fc.constant('mainnet'),
      destinations: fc
        .subarray(ADDRESSES, { minLength: 1 })
        .map((list) => list.map((address) => ({ address, label: `L-${address}` }))),
      maxAmount: limit(3n * 10n ** 8n, 8),
      maxFee: limit(100_000n, 8),
      maxFeeRate: fc.integer({ min: 1, max: 200 }),
      velocity: fc.record(
        {
          window: fc.integer({ min: 1, max: 48 }).map((h) => `${h}h`),
          maxAmount: limit(6n * 10n ** 8n, 8),
          maxCount: fc.integer({ min: 1, max: 6 }),
        },
        { requiredKeys: ['window', 'maxCount'] },
      ),
      approvals: fc.integer({ min: 0, max: 3 }),
    },
    { requiredKeys: ['id', 'chain', 'network'] },
  );

const btcRequest = fc.record({
  network: fc.constantFrom('mainnet', 'testnet'),
  outputs: fc.array(
    fc.record({ to: fc.constantFrom(...ADDRESSES), sat: sat(2n * 10n ** 8n), change: fc.boolean() }),
    { minLength: 1, maxLength: 4 },
  ),
  fee: sat(120_000n),
  rate: fc.integer({ min: 1, max: 250 }),
});

const historyOf = (ids: string[]) =>
  fc
    .array(
      fc.record({
        rule: fc.constantFrom(...ids),
        sat: sat(10n ** 8n),
        msAgo: fc.integer({ min: -H, max: 50 * H }),
      }),
      { maxLength: 8 },
    )
    .map((records) =>
      records.map((r, i): VelocityRecord => ({
        requestId: `q${i}`,
        rule: r.rule,
        asset: 'native',
        raw: r.sat.toString(),
        timeMs: NOW.getTime() - r.msAgo,
      })),
    );

type BtcRequest = {
  network: string;
  outputs: { to: string; sat: bigint; change: boolean }[];
  fee: bigint;
  rate: number;
};

function btcSummary(req: BtcRequest): SigningSummary {
  return {
    chain: 'btc',
    kind: 'psbt',
    network: req.network as 'mainnet',
    signingKeys: ['vault-1'],
    movements: req.outputs.map((o) => ({
      to: o.to,
      raw: o.sat.toString(),
      amount: null,
      asset: { type: 'native', symbol: 'BTC' },
      change: o.change,
    })),
    fee: { raw: req.fee.toString(), amount: formatUnits(req.fee, 8), rate: req.rate },
    blind: false,
    warnings: [],
    details: {},
    btc: {
      sighashTypes: ['ALL'],
      atRiskSats: '0',
      ourInputSats: (req.outputs.reduce((n, o) => n + o.sat, 0n) + req.fee).toString(),
      sentSats: req.outputs.reduce((n, o) => n + (o.change ? 0n : o.sat), 0n).toString(),
      feeSats: req.fee.toString(),
      feeStatus: 'verified',
      feeRate: req.rate,
      wallets: [],
    },
  };
}

/** Independent oracle: the limits of `rule` as the request and history should respect them. */
function assertWithinRule(rule: PolicyRule, summary: SigningSummary, history: VelocityRecord[]): void {
  const sent = summary.movements.filter((m) => !m.change);
  const allowed = new Set((rule.destinations ?? []).map((d) => d.address.toLowerCase()));
  for (const m of sent) if (BigInt(m.raw) > 0n) expect(allowed.has(String(m.to).toLowerCase())).toBe(true);
  const total = sent.reduce((sum, m) => sum + BigInt(m.raw), 0n);
  if (rule.maxAmount) expect(total <= toBaseUnits(rule.maxAmount, 8)).toBe(true);
  if (rule.maxFee) expect(BigInt(summary.fee!.raw) <= toBaseUnits(rule.maxFee, 8)).toBe(true);
  if (rule.maxFeeRate) expect(summary.fee!.rate! <= rule.maxFeeRate).toBe(true);
  expect(summary.network).toBe(rule.network);
  if (rule.velocity) {
    const since = NOW.getTime() - windowMs(rule.velocity.window);
    const inWindow = history.filter((r) => r.rule === rule.id && r.timeMs > since);
    if (rule.velocity.maxCount)
      expect(new Set(inWindow.map((r) => r.requestId)).size + 1 <= rule.velocity.maxCount).toBe(true);
    if (rule.velocity.maxAmount) {
      const spent = inWindow.reduce((sum, r) => sum + BigInt(r.raw), 0n);
      expect(spent + total <= toBaseUnits(rule.velocity.maxAmount, 8)).toBe(true);
    }
  }
}

describe('policy properties (fast-check)', () => {
  it('a Bitcoin request allowed by random policies respects every limit and the allowlist of its rule', () => {
    let allowedCount = 0;
    fc.assert(
      fc.property(
        fc.tuple(btcRule('a'), btcRule('b')),
        btcRequest,
        historyOf(['a', 'b']),
        (rules, req, history) => {
          const policy = parsePolicy({ version: 1, rules });
          const summary = btcSummary(req);
          const decision = evaluate(summary, policy, history, NOW);
          if (!decision.allowed) {
            expect(decision.rule).toBeNull();
            expect(decision.reasons.some((r) => !r.ok)).toBe(true);
            return;
          }
          allowedCount += 1;
          const rule = policy.rules.find((r) => r.id === decision.rule)!;
          expect(decision.requiredApprovals).toBe(rule.approvals ?? 0);
          assertWithinRule(rule, summary, history);
        },
      ),
      { numRuns: 1500 },
    );
    // the property is not vacuous: a fair share of random requests is allowed
    expect(allowedCount).toBeGreaterThan(20);
  });

  it('token transfers allowed by random policies stay within the token allowlist and per-token limits', () => {
    let allowedCount = 0;
    const tokenRule = fc.record({
      id: fc.constant('t'),
      chain: fc.constant('evm' as const),
      chainIds: fc.constant([1]),
      destinations: fc
        .subarray(EVM_ADDRESSES, { minLength: 1 })
        .map((l) => l.map((address) => ({ address, label: 'x' }))),
      tokens: fc.uniqueArray(
        fc.record({
          contract: fc.constantFrom(...TOKENS),
          decimals: fc.integer({ min: 0, max: 18 }),
          max: sat(10n ** 12n),
        }),
        {
          selector: (t) => t.contract,
          minLength: 1,
        },
      ),
    });
    const request = fc.record({
      token: fc.constantFrom(...TOKENS),
      to: fc.constantFrom(...EVM_ADDRESSES),
      units: sat(2n * 10n ** 12n),
      decimals: fc.option(fc.integer({ min: 0, max: 18 }), { freq: 2, nil: undefined }),
    });
    fc.assert(
      fc.property(tokenRule, request, (r, q) => {
        const rule = {
          ...r,
          tokens: r.tokens.map((t) => ({
            contract: t.contract,
            symbol: 'TOK',
            decimals: t.decimals,
            maxAmount: formatUnits(t.max, t.decimals),
          })),
        };
        const summary: SigningSummary = {
          chain: 'evm',
          kind: 'transaction',
          chainId: 1,
          signingKeys: ['k'],
          movements: [
            {
              channel: 'call',
              to: q.token,
              raw: '0',
              amount: '0',
              asset: { type: 'native', symbol: 'ETH' },
              change: false,
              selector: '0xa9059cbb',
            },
            {
              channel: 'token-transfer',
              to: q.to,
              raw: q.units.toString(),
              amount: null,
              asset: {
                type: 'token',
                contract: q.token,
                ...(q.decimals === undefined ? {} : { decimals: q.decimals }),
              },
              change: false,
            },
          ],
          fee: { raw: '1', amount: '0' },
          call: {
            contract: q.token,
            selector: '0xa9059cbb',
            name: 'transfer(address,uint256)',
            args: {},
            category: 'erc20-transfer',
          },
          blind: false,
          warnings: [],
          details: { gasPrice: '1' },
        };
        const decision = evaluate(summary, parsePolicy({ version: 1, rules: [rule] }), [], NOW);
        if (!decision.allowed) return;
        allowedCount += 1;
        const token = rule.tokens.find((t) => t.contract === q.token);
        expect(token).toBeDefined();
        if (q.decimals !== undefined) expect(token!.decimals).toBe(q.decimals);
        expect(q.units <= toBaseUnits(token!.maxAmount, token!.decimals)).toBe(true);
        expect(r.destinations.map((d) => d.address)).toContain(q.to);
      }),
      { numRuns: 800 },
    );
    expect(allowedCount).toBeGreaterThan(20);
  });

  it('contract calls and typed data allowed by random policies stay within the contract, selector and domain allowlists', () => {
    const SELECTORS = ['0x095ea7b3', '0xa9059cbb', '0x12345678', '0xdeadbeef'];
    let allowedCount = 0;
    const rule = fc.record({
      contracts: fc.uniqueArray(
        fc.record({
          address: fc.constantFrom(...EVM_ADDRESSES),
          selectors: fc.subarray(SELECTORS, { minLength: 1 }),
        }),
        {
          selector: (c) => c.address,
          maxLength: 3,
        },
      ),
      allowBlind: fc.boolean(),
      domains: fc.subarray(['Permit2', 'Seaport', 'Safe'], { minLength: 1 }),
    });
    const request = fc.record({
      typed: fc.boolean(),
      contract: fc.constantFrom(...EVM_ADDRESSES),
      selector: fc.constantFrom(...SELECTORS),
      blind: fc.boolean(),
      domain: fc.constantFrom('Permit2', 'Seaport', 'Safe', 'Evil'),
    });
    fc.assert(
      fc.property(rule, request, (r, q) => {
        const policy = parsePolicy({
          version: 1,
          rules: [
            {
              id: 'c',
              chain: 'evm',
              chainIds: [1],
              kinds: ['contract_call', 'typed_data'],
              anyDestination: true,
              allowBlind: r.allowBlind,
              ...(r.contracts.length ? { contracts: r.contracts } : {}),
              typedDataDomains: r.domains.map((name) => ({ name })),
            },
          ],
        });
        const summary: SigningSummary = {
          chain: 'evm',
          kind: q.typed ? 'typed_data' : 'transaction',
          chainId: 1,
          signingKeys: ['k'],
          movements: q.typed
            ? []
            : [
                {
                  channel: 'call',
                  to: q.contract,
                  raw: '0',
                  amount: '0',
                  asset: { type: 'native', symbol: 'ETH' },
                  change: false,
                  selector: q.selector,
                },
              ],
          fee: q.typed ? null : { raw: '1', amount: '0' },
          ...(q.typed
            ? { typedData: { domain: { name: q.domain }, primaryType: 'X' } }
            : { call: { contract: q.contract, selector: q.selector, name: null, args: {} } }),
          blind: q.blind,
          warnings: [],
          details: {},
        };
        const decision = evaluate(summary, policy, [], NOW);
        if (!decision.allowed) return;
        allowedCount += 1;
        if (q.blind) expect(r.allowBlind).toBe(true);
        if (q.typed) expect(r.domains).toContain(q.domain);
        else expect(r.contracts.find((c) => c.address === q.contract)?.selectors).toContain(q.selector);
      }),
      { numRuns: 800 },
    );
    expect(allowedCount).toBeGreaterThan(20);
  });

  it('a velocity record counts exactly when it is less than the window old', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9999 }),
        fc.constantFrom('s', 'm', 'h', 'd'),
        fc.integer({ min: -5000, max: 5000 }),
        (n, unit, offset) => {
          const window = `${n}${unit}`;
          const timeMs = NOW.getTime() - windowMs(window) + offset;
          const usage = usageInWindow(
            [{ requestId: 'x', rule: 'r', asset: 'native', raw: '7', timeMs }],
            'r',
            window,
            NOW,
          );
          expect(usage.count).toBe(offset > 0 ? 1 : 0);
          expect(usage.amounts.get('native') ?? 0n).toBe(offset > 0 ? 7n : 0n);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('amounts round-trip exactly between decimal text and base units', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 30n }),
        fc.integer({ min: 0, max: 18 }),
        (raw, decimals) => {
          expect(toBaseUnits(formatUnits(raw, decimals), decimals)).toBe(raw);
        },
      ),
    );
  });
});
