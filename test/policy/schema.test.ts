import { describe, expect, it } from 'vitest';
import { isColdsignError } from '../../core/errors.js';
import { parsePolicy } from '../../policy/schema.js';
import { formatPolicy } from '../../policy/format.js';
import { SPEC_POLICY } from './fixtures.js';

function problem(change: (doc: Record<string, unknown> & typeof SPEC_POLICY) => void): string {
  const doc = structuredClone(SPEC_POLICY) as Record<string, unknown> & typeof SPEC_POLICY;
  change(doc);
  try {
    parsePolicy(doc);
  } catch (error) {
    expect(isColdsignError(error, 'POLICY_INVALID')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('the policy was accepted');
}

describe('policy schema', () => {
  it('accepts the SPEC example', () => {
    expect(parsePolicy(SPEC_POLICY).rules.map((r) => r.id)).toEqual(['btc-cold-to-exchange', 'usdc-payroll']);
    expect(parsePolicy(JSON.stringify(SPEC_POLICY)).version).toBe(7);
  });

  it.each([
    [
      'a float amount',
      (d: typeof SPEC_POLICY) => ((d.rules[0] as Record<string, unknown>).maxAmount = 0.5),
      /rules\[0\]\.maxAmount: must be a decimal amount/,
    ],
    [
      'an exponent amount',
      (d: typeof SPEC_POLICY) => (d.rules[0]!.maxAmount = '5e-1'),
      /rules\[0\]\.maxAmount: must be a decimal amount/,
    ],
    [
      'too many BTC decimals',
      (d: typeof SPEC_POLICY) => (d.rules[0]!.maxAmount = '0.123456789'),
      /rules\[0\]\.maxAmount: has more than 8 decimals/,
    ],
    [
      'too many token decimals',
      (d: typeof SPEC_POLICY) => (d.rules[1]!.tokens![0]!.maxAmount = '1.0000001'),
      /rules\[1\]\.tokens\[0\]\.maxAmount: has more than 6 decimals/,
    ],
    [
      'an unknown field (typo)',
      (d: typeof SPEC_POLICY) => ((d.rules[0] as Record<string, unknown>).maxAmmount = '1'),
      /rules\[0\]: .*maxAmmount/i,
    ],
    [
      'a Bitcoin rule without network',
      (d: typeof SPEC_POLICY) => delete (d.rules[0] as Record<string, unknown>).network,
      /rules\[0\]\.network: a Bitcoin rule must name its network/,
    ],
    [
      'an EVM rule without chainIds',
      (d: typeof SPEC_POLICY) => delete (d.rules[1] as Record<string, unknown>).chainIds,
      /rules\[1\]\.chainIds: an EVM rule must list/,
    ],
    [
      'a bad chain',
      (d: typeof SPEC_POLICY) => (d.rules[0]!.chain = 'ltc'),
      /rules\[0\]\.chain: must be "btc" or "evm"/,
    ],
    [
      'a repeated id',
      (d: typeof SPEC_POLICY) => (d.rules[1]!.id = 'btc-cold-to-exchange'),
      /rules\[1\]\.id: repeats the rule id/,
    ],
    ['a version 0', (d: typeof SPEC_POLICY) => (d.version = 0), /Policy field version: must be at least 1/],
    [
      'a bad velocity window',
      (d: typeof SPEC_POLICY) => (d.rules[0]!.velocity!.window = '1 day'),
      /rules\[0\]\.velocity\.window: must be a duration/,
    ],
    [
      'a bad token address',
      (d: typeof SPEC_POLICY) => (d.rules[1]!.tokens![0]!.contract = '0x1234'),
      /rules\[1\]\.tokens\[0\]\.contract: must be a 0x-prefixed 20-byte hex address/,
    ],
    [
      'fee rate on an EVM rule',
      (d: typeof SPEC_POLICY) => ((d.rules[1] as Record<string, unknown>).maxFeeRate = 5),
      /rules\[1\]\.maxFeeRate: applies only to Bitcoin rules/,
    ],
    ['negative approvals', (d: typeof SPEC_POLICY) => (d.rules[0]!.approvals = -1), /rules\[0\]\.approvals/],
    [
      'a malformed signature',
      (d: typeof SPEC_POLICY) =>
        ((d as Record<string, unknown>).signatures = [{ officer: 'alice', signature: 'abc' }]),
      /signatures\[0\]\.signature: must be a base64 Ed25519 signature/,
    ],
  ])('refuses %s naming the field', (_name, change, message) => {
    expect(problem(change as never)).toMatch(message);
  });

  it('refuses text that is not JSON', () => {
    expect(() => parsePolicy('{"version": 1,')).toThrow(
      expect.objectContaining({ code: 'POLICY_INVALID', message: 'The policy document is not valid JSON.' }),
    );
  });

  it('lists every problem in the error info', () => {
    try {
      parsePolicy({ version: 'x', rules: [{ id: 'a', chain: 'btc' }] });
      expect.unreachable();
    } catch (error) {
      expect((error as { info: { problems: string[] } }).info.problems.length).toBeGreaterThanOrEqual(2);
    }
  });

  it('formats a policy readably for policy show', () => {
    const text = formatPolicy(parsePolicy(SPEC_POLICY));
    expect(text).toContain('Policy version 7');
    expect(text).toContain('Rule btc-cold-to-exchange');
    expect(text).toContain('Exchange hot wallet: bc1q');
    expect(text).toContain('max per request   0.5 BTC');
    expect(text).toContain(
      'USDC (0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48, 6 decimals): max 25000 per request',
    );
    expect(text).toContain('at most 2 BTC and 10 requests per 24h');
  });
});
