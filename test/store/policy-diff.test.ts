/** The policy change shown before `policy apply`: per rule (by id) and per field. */
import { describe, expect, it } from 'vitest';
import { policyDiff } from '../../appliance/policy-diff.js';
import { parsePolicy, type PolicyDocument } from '../../policy/schema.js';

const EXCHANGE = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4';

function doc(version: number, largeApprovals: number, extra: Record<string, unknown> = {}): PolicyDocument {
  return parsePolicy({
    version,
    ...extra,
    rules: [
      {
        id: 'small',
        chain: 'btc',
        network: 'mainnet',
        destinations: [{ address: EXCHANGE, label: 'Exchange' }],
        maxAmount: '0.5',
        approvals: 0,
      },
      {
        id: 'large',
        chain: 'btc',
        network: 'mainnet',
        destinations: [{ address: EXCHANGE, label: 'Exchange' }],
        maxAmount: '5',
        approvals: largeApprovals,
      },
    ],
  });
}

describe('policy diff', () => {
  it('rule "large" going from 2 approvals to 0 is a change of that field of that rule', () => {
    expect(policyDiff(doc(1, 2), doc(2, 0))).toEqual(['~ version: 1 → 2', '~ rule large: approvals 2 → 0']);
  });

  it('names added and removed rules and top-level fields', () => {
    const before = doc(1, 2);
    const after = { ...doc(2, 2, { approvalExpiry: '1h' }), rules: [doc(2, 2).rules[1]!] };
    const lines = policyDiff(before, after);
    expect(lines).toContain('~ approvalExpiry: (not set) → 1h');
    expect(lines.some((l) => l.startsWith('- rule small removed'))).toBe(true);
    expect(policyDiff(null, before).filter((l) => l.startsWith('+ rule'))).toHaveLength(2);
  });
});
