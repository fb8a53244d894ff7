/**
 * The review model (pure) from hand-built summaries that fill the movement model's fields (channel, from,
 * unbounded, deadline, wallet): headline totals, units and EIP-55, approvals as movements with expiry, fee warnings
 * from the policy or the defaults, severities, and the closest rule's reasons first.
 */
import { describe, expect, it } from 'vitest';
import { refusedForConflict } from '../../appliance/outpoint-check.js';
import { buildReviewModel, refusalReason } from '../../appliance/review-model.js';
import { formatReview } from '../../cli/review-text.js';
import type { Decision, Movement, SigningSummary } from '../../core/summary.js';
import type { PolicyDocument } from '../../policy/schema.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const EXCHANGE = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4';
const OTHER = 'bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3';
const USDC = '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48';
const SPENDER = '0x1111111254eeb25477b68fb85ed929f73a960582';
const OUR_ETH = '0x9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f';

const btcOut = (to: string, btc: string, sats: string, extra: Partial<Movement> = {}): Movement => ({
  channel: 'output',
  to,
  raw: sats,
  amount: btc,
  asset: { type: 'native', symbol: 'BTC' },
  change: false,
  ...extra,
});

function btcSummary(movements: Movement[], fee: string, feeSats: string, rate: number): SigningSummary {
  return {
    chain: 'btc',
    kind: 'psbt',
    network: 'mainnet',
    signingKeys: ['vault-1'],
    movements,
    fee: { raw: feeSats, amount: fee, rate },
    blind: false,
    warnings: [],
    details: { inputs: [{ ours: true }, { ours: true }], totalIn: '1', vsize: 141 },
  };
}

const POLICY: PolicyDocument = {
  version: 1,
  rules: [
    {
      id: 'btc-exchange',
      chain: 'btc',
      network: 'mainnet',
      destinations: [{ address: EXCHANGE, label: 'Exchange hot wallet' }],
      maxAmount: '0.5',
      maxFeeRate: 50,
    },
    {
      id: 'usdc-payroll',
      chain: 'evm',
      chainIds: [1],
      destinations: [{ address: SPENDER, label: 'Router' }],
    },
    {
      id: 'btc-treasury',
      chain: 'btc',
      network: 'mainnet',
      keys: ['vault-9'],
      destinations: [{ address: OTHER, label: 'Treasury' }],
      maxAmount: '0.1',
    },
  ],
};

const refused: Decision = {
  allowed: false,
  rule: null,
  requiredApprovals: 0,
  reasons: [
    { rule: 'btc-exchange', ok: false, message: 'Output 1 goes to an address on no allowlist.' },
    { rule: 'usdc-payroll', ok: false, message: 'Rule usdc-payroll is for EVM chains.' },
    { rule: 'btc-treasury', ok: false, message: 'The key vault-1 is not one of vault-9.' },
    { rule: 'btc-treasury', ok: false, message: 'Output 0 goes to an address on no allowlist.' },
    { rule: 'btc-treasury', ok: false, message: 'The amount is above 0.1 BTC.' },
    { rule: '(default)', ok: false, message: 'No rule allows this request (default deny).' },
  ],
};

describe('review model', () => {
  it('states the headline with total, destinations, fee and rate, and labels allowlisted outputs', () => {
    const summary = btcSummary(
      [
        btcOut(EXCHANGE, '0.3', '30000000'),
        btcOut(OTHER, '0.2', '20000000'),
        btcOut('bc1qchange', '0.4', '40000000', { channel: 'change', change: true }),
        btcOut('', '0.00025', '25000', { channel: 'fee', to: null }),
      ],
      '0.00025',
      '25000',
      12.5,
    );
    const model = buildReviewModel({ requestId: 'ab', summary, decision: refused, policy: POLICY, now: NOW });
    expect(model.headline.text).toBe(
      'You send 0.5 BTC to 2 destinations + fee 0.00025 BTC (12.5 sat/vB) — total leaving 0.50025 BTC',
    );
    expect(model.movements).toHaveLength(3); // the fee is a fee line, not a movement row
    expect(model.movements[0]).toMatchObject({
      label: 'Exchange hot wallet',
      leaves: true,
      amount: '0.3 BTC',
    });
    expect(model.movements[2]).toMatchObject({ leaves: false, label: 'our key' });
    expect(model.network).toBe('Bitcoin mainnet');
  });

  it('puts the closest rule first and folds the others; rules of the other chain are left out', () => {
    const summary = btcSummary([btcOut(OTHER, '0.2', '20000000')], '0.0001', '10000', 5);
    const model = buildReviewModel({ requestId: 'ab', summary, decision: refused, policy: POLICY, now: NOW });
    expect(model.verdict.closestRule).toBe('btc-exchange');
    expect(model.verdict.reasons.map((r) => r.rule)).toEqual(['btc-exchange', '(default)']);
    expect(model.verdict.folded.map((r) => r.rule)).toEqual(['btc-treasury', 'btc-treasury', 'btc-treasury']);
    const text = formatReview(model);
    expect(text.split('\n')[0]).toBe('Policy: REFUSED — this request cannot be signed');
    expect(text).not.toContain('is for EVM chains');
    expect(text).toContain('3 more reason(s) from 1 other rule(s)');
  });

  it('a refusal by the outpoint ledger leads the reasons and names itself, even when a rule allows everything else', () => {
    const summary = btcSummary([btcOut(EXCHANGE, '0.2', '20000000')], '0.0001', '10000', 5);
    // The policy allows it on five checks: a screen that shows three reasons would have folded a conflict listed last.
    const allowed: Decision = {
      allowed: true,
      rule: 'btc-exchange',
      requiredApprovals: 0,
      reasons: [
        'The chain is Bitcoin mainnet.',
        'The key vault-1 is allowed.',
        'Every output goes to an allowlisted address.',
        'The amount is at most 0.5 BTC.',
        'The fee rate is at most 50 sat/vB.',
      ].map((message) => ({ rule: 'btc-exchange', ok: true, message })),
    };
    const claim = { script: '0014' + '22'.repeat(20), keyLabel: 'vault-1', sighashType: 1 };
    const decision = refusedForConflict(allowed, {
      outpoint: `${'ab'.repeat(32)}:0`,
      before: { ...claim, outpoint: `${'ab'.repeat(32)}:0`, sats: '100000' },
      now: { ...claim, outpoint: `${'ab'.repeat(32)}:0`, sats: '900000' },
    });
    const model = buildReviewModel({ requestId: 'ab', summary, decision, policy: POLICY, now: NOW });
    expect(model.verdict).toMatchObject({
      allowed: false,
      refusedBy: 'outpoint-ledger',
      code: 'PSBT_OUTPOINT_AMOUNT_CONFLICT',
      title: 'REFUSED by the outpoint ledger',
      closestRule: 'btc-exchange',
    });
    expect(model.verdict.reasons[0]).toMatchObject({ rule: '(signed outpoints)', ok: false });
    expect(model.verdict.reasons[0]!.message).toMatch(/^Outpoint (ab)+:0 was signed for 0\.001 BTC/);
    expect(model.verdict.folded.map((r) => r.rule)).not.toContain('(signed outpoints)');
    expect(refusalReason(model.verdict)).toBe(model.verdict.reasons[0]);
    const lines = formatReview(model).split('\n');
    expect(lines[0]).toMatch(/^Outpoint ledger: REFUSED — .*no policy change can allow this request$/);
    expect(lines[2]).toMatch(/^ {2}no {2}Outpoint /);
  });

  it('a refusal by the policy names the policy and its code', () => {
    const summary = btcSummary([btcOut(OTHER, '0.2', '20000000')], '0.0001', '10000', 5);
    const model = buildReviewModel({ requestId: 'ab', summary, decision: refused, policy: POLICY, now: NOW });
    expect(model.verdict).toMatchObject({
      refusedBy: 'policy',
      code: 'POLICY_DENIED',
      title: 'REFUSED by the policy',
    });
  });

  it('honours a decision that names its closest rule', () => {
    const summary = btcSummary([btcOut(OTHER, '0.2', '20000000')], '0.0001', '10000', 5);
    const decision = { ...refused, closestRule: 'btc-treasury' };
    const model = buildReviewModel({ requestId: 'ab', summary, decision, policy: POLICY, now: NOW });
    expect(model.verdict.reasons.map((r) => r.rule)).toEqual([
      'btc-treasury',
      'btc-treasury',
      'btc-treasury',
      '(default)',
    ]);
  });

  it('warns on absolute fee, fee rate (rule limit) and fee share (default)', () => {
    const summary = btcSummary([btcOut(EXCHANGE, '0.01', '1000000')], '0.0025', '250000', 603.86);
    const model = buildReviewModel({ requestId: 'ab', summary, decision: refused, policy: POLICY, now: NOW });
    const texts = model.warnings.map((w) => w.text);
    expect(texts).toContain('HIGH FEE: 0.0025 BTC is above the usual limit of 0.001 BTC.');
    expect(texts).toContain('HIGH FEE RATE: 603.86 sat/vB is above the rule limit of 50 sat/vB.');
    expect(texts.some((t) => t.startsWith('HIGH FEE SHARE: the fee is 25.0% of the 0.01 BTC sent'))).toBe(
      true,
    );
    const calm = btcSummary([btcOut(EXCHANGE, '0.3', '30000000')], '0.00001', '1000', 7);
    expect(
      buildReviewModel({ requestId: 'ab', summary: calm, decision: refused, policy: POLICY, now: NOW })
        .warnings,
    ).toEqual([]);
  });

  it('shows an unlimited Permit2 approval as a movement with spender, token and expiry, in red', () => {
    const summary: SigningSummary = {
      chain: 'evm',
      kind: 'typed_data',
      chainId: 1,
      signingKeys: ['eth-1'],
      movements: [
        {
          channel: 'approval',
          from: OUR_ETH,
          to: SPENDER,
          raw: (2n ** 160n - 1n).toString(),
          amount: null,
          unbounded: true,
          deadline: '2026-01-31T00:00:00.000Z',
          asset: { type: 'token', contract: USDC, symbol: 'USDC', decimals: 6 },
          change: false,
        },
      ],
      fee: null,
      blind: false,
      typedData: { domain: { name: 'Permit2', chainId: '1' }, primaryType: 'PermitSingle' },
      warnings: [],
      details: { from: OUR_ETH },
    };
    const model = buildReviewModel({ requestId: 'ab', summary, decision: refused, policy: POLICY, now: NOW });
    expect(model.network).toBe('Ethereum mainnet (chain 1)');
    expect(model.from).toBe('0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F');
    expect(model.movements[0]).toMatchObject({
      channelName: 'spending approval',
      to: '0x1111111254EEB25477B68fb85Ed929f73A960582',
      label: 'Router',
      token: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48',
      amount: 'UNLIMITED USDC',
      deadlineText: '2026-01-31 00:00 UTC (in 30 days)',
    });
    expect(model.headline.approvals[0]).toBe(
      'You allow 0x1111111254EEB25477B68fb85Ed929f73A960582 (Router) to take UNLIMITED USDC until 2026-01-31 00:00 UTC (in 30 days)',
    );
    expect(model.warnings[0]).toMatchObject({ severity: 'danger' });
    expect(model.warnings[0]!.text).toMatch(/UNLIMITED approval/);
  });

  it('gives EVM transactions From, nonce, gas caps and maximum fee in units, and a chain name', () => {
    const summary: SigningSummary = {
      chain: 'evm',
      kind: 'transaction',
      chainId: 8453,
      signingKeys: ['eth-1'],
      movements: [
        {
          channel: 'token-transfer',
          from: OUR_ETH,
          to: SPENDER,
          raw: '5000000000',
          amount: '5000',
          asset: { type: 'token', contract: USDC, symbol: 'USDC', decimals: 6 },
          change: false,
        },
      ],
      fee: { raw: '1950000000000000', amount: '0.00195' },
      blind: true,
      warnings: ['The inner call of the Safe transaction uses delegatecall.'],
      details: {
        from: OUR_ETH,
        nonce: 7,
        gasLimit: '65000',
        maxFeePerGas: '30000000000',
        maxPriorityFeePerGas: '1000000000',
      },
    };
    const model = buildReviewModel({ requestId: 'ab', summary, decision: refused, policy: null, now: NOW });
    expect(model.network).toBe('Base (chain 8453)');
    expect(model.fees).toEqual([
      { label: 'Nonce', value: '7' },
      { label: 'Gas limit', value: '65000' },
      { label: 'Max fee per gas', value: '30.0 gwei' },
      { label: 'Priority tip per gas', value: '1.0 gwei' },
      { label: 'Maximum fee', value: '0.00195 ETH' },
    ]);
    expect(model.headline.text).toBe(
      'You send 5000 USDC to 1 destination + fee at most 0.00195 ETH — total leaving 5000 USDC and 0.00195 ETH',
    );
    expect(model.warnings.map((w) => w.severity)).toEqual(['danger', 'danger']); // delegatecall text, blind
  });

  it('a zero-value call is where the call goes, not value sent: left out of "You send", listed as the call', () => {
    const summary: SigningSummary = {
      chain: 'evm',
      kind: 'transaction',
      chainId: 1,
      signingKeys: ['eth-1'],
      movements: [
        {
          channel: 'call',
          selector: '0xa9059cbb',
          from: OUR_ETH,
          to: USDC,
          raw: '0',
          amount: '0',
          asset: { type: 'native', symbol: 'ETH' },
          change: false,
        },
        {
          channel: 'token-transfer',
          from: OUR_ETH,
          to: SPENDER,
          raw: '5000000000',
          amount: '5000',
          asset: { type: 'token', contract: USDC, symbol: 'USDC', decimals: 6 },
          change: false,
        },
      ],
      fee: { raw: '1950000000000000', amount: '0.00195' },
      blind: false,
      warnings: [],
      details: { from: OUR_ETH },
    };
    const model = buildReviewModel({ requestId: 'ab', summary, decision: refused, policy: null, now: NOW });
    expect(model.headline.text).toBe(
      'You send 5000 USDC to 1 destination + fee at most 0.00195 ETH — total leaving 5000 USDC and 0.00195 ETH',
    );
    expect(model.movements[0]).toMatchObject({ channel: 'call', callOnly: true, amount: '0 ETH' });
    expect(model.movements[0]!.channelName).toMatch(/no value sent/);
    expect(model.movements[1]).toMatchObject({ channel: 'token-transfer', callOnly: false });
    expect(formatReview(model)).toContain('[call, no value sent]');
  });

  it('says plainly that a message moves nothing', () => {
    const summary: SigningSummary = {
      chain: 'evm',
      kind: 'message',
      signingKeys: ['eth-1'],
      movements: [],
      fee: null,
      blind: false,
      message: { text: 'Sign in', hex: '0x5369676e20696e' },
      warnings: [],
      details: { from: OUR_ETH },
    };
    const model = buildReviewModel({ requestId: 'ab', summary, decision: refused, policy: null, now: NOW });
    expect(model.headline.text).toBe('You sign a message; no value moves with it.');
    expect(model.network).toMatch(/^any EVM chain/);
  });
});
