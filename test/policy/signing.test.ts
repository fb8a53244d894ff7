import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../core/bytes.js';
import type { ErrorCode } from '../../core/errors.js';
import { approvalMessage, verifyApprovals } from '../../policy/approvals.js';
import { parsePolicy, type PolicyDocument } from '../../policy/schema.js';
import {
  checkPolicyUpgrade,
  policySigningBytes,
  toBase64,
  verifyPolicySignatures,
  withPolicySignature,
  type Officer,
} from '../../policy/signing.js';
import { SPEC_POLICY } from './fixtures.js';

const secrets = {
  alice: ed25519.utils.randomSecretKey(),
  bob: ed25519.utils.randomSecretKey(),
  mallory: ed25519.utils.randomSecretKey(),
};
const officers: Officer[] = [
  { name: 'alice', publicKey: toHex(ed25519.getPublicKey(secrets.alice)) },
  { name: 'bob', publicKey: toHex(ed25519.getPublicKey(secrets.bob)) },
];

function sign(doc: PolicyDocument, name: keyof typeof secrets): PolicyDocument {
  return withPolicySignature(doc, name, ed25519.sign(policySigningBytes(doc), secrets[name]));
}

function codeOf(fn: () => unknown): { code: ErrorCode; message: string } {
  try {
    fn();
  } catch (error) {
    return error as { code: ErrorCode; message: string };
  }
  throw new Error('nothing was refused');
}

const unsigned = parsePolicy(SPEC_POLICY);

describe('policy signatures (Ed25519 over RFC 8785 without "signatures")', () => {
  it('signs the canonical form: key order and whitespace do not matter, signatures are excluded', () => {
    const reordered = parsePolicy(JSON.parse(JSON.stringify({ rules: SPEC_POLICY.rules, version: 7 })));
    expect(policySigningBytes(reordered)).toEqual(policySigningBytes(unsigned));
    expect(new TextDecoder().decode(policySigningBytes(sign(unsigned, 'alice')))).not.toContain('signatures');
    expect(
      new TextDecoder().decode(policySigningBytes(unsigned)).startsWith('{"rules":[{"approvals":2,'),
    ).toBe(true);
  });

  it('accepts a quorum of enrolled officers and names them; the same officer counts once', () => {
    const doc = parsePolicy(sign(sign(unsigned, 'alice'), 'bob'));
    expect(verifyPolicySignatures(doc, officers, 2).sort()).toEqual(['alice', 'bob']);
    const twice = parsePolicy({
      ...sign(unsigned, 'alice'),
      signatures: [...sign(unsigned, 'alice').signatures!, ...sign(unsigned, 'alice').signatures!],
    });
    expect(codeOf(() => verifyPolicySignatures(twice, officers, 2)).code).toBe('POLICY_QUORUM_MISSING');
  });

  it('a missing signature is POLICY_QUORUM_MISSING', () => {
    const result = codeOf(() => verifyPolicySignatures(parsePolicy(sign(unsigned, 'alice')), officers, 2));
    expect(result).toMatchObject({
      code: 'POLICY_QUORUM_MISSING',
      message: 'The policy needs the signatures of 2 enrolled officers; it has 1 (alice).',
    });
    expect(codeOf(() => verifyPolicySignatures(unsigned, officers, 1)).message).toMatch(/it has none/);
  });

  it('a signature by a non-officer is POLICY_SIGNATURE_INVALID naming them', () => {
    const result = codeOf(() =>
      verifyPolicySignatures(parsePolicy(sign(sign(unsigned, 'alice'), 'mallory')), officers, 1),
    );
    expect(result).toMatchObject({
      code: 'POLICY_SIGNATURE_INVALID',
      message: 'The policy is signed by "mallory", who is not an enrolled officer.',
    });
  });

  it('a field changed after signing is POLICY_SIGNATURE_INVALID', () => {
    const signed = sign(sign(unsigned, 'alice'), 'bob');
    const tampered = parsePolicy({
      ...signed,
      rules: [{ ...signed.rules[0]!, maxAmount: '50' }, signed.rules[1]!],
    });
    const result = codeOf(() => verifyPolicySignatures(tampered, officers, 2));
    expect(result.code).toBe('POLICY_SIGNATURE_INVALID');
    expect(result.message).toMatch(
      /officer "alice" does not verify: the policy was changed after it was signed/,
    );
  });

  it('a signature made with another key under an officer name is POLICY_SIGNATURE_INVALID', () => {
    const forged = withPolicySignature(
      unsigned,
      'bob',
      ed25519.sign(policySigningBytes(unsigned), secrets.mallory),
    );
    expect(codeOf(() => verifyPolicySignatures(forged, officers, 1)).code).toBe('POLICY_SIGNATURE_INVALID');
  });

  it('a lower or equal version is POLICY_VERSION_STALE', () => {
    const older = parsePolicy({ ...SPEC_POLICY, version: 6 });
    expect(codeOf(() => checkPolicyUpgrade(unsigned, older))).toMatchObject({
      code: 'POLICY_VERSION_STALE',
      message: 'Policy version 6 is not higher than version 7 in force.',
    });
    expect(codeOf(() => checkPolicyUpgrade(unsigned, unsigned)).code).toBe('POLICY_VERSION_STALE');
    expect(() => checkPolicyUpgrade(older, unsigned)).not.toThrow();
    expect(() => checkPolicyUpgrade(null, older)).not.toThrow();
  });
});

describe('approvals', () => {
  const requestId = 'ab'.repeat(32);
  const NOW = new Date('2026-03-02T12:00:00.000Z');
  const scope = { appliance: '02'.padEnd(66, 'a'), keyPublicKeys: ['04'.padEnd(130, 'b')] };
  const binding = { requestId, keys: ['eth-1'], policyVersion: 3, scope };
  const approve = (
    name: keyof typeof secrets,
    over: Partial<{
      requestId: string;
      keys: string[];
      policyVersion: number;
      createdAt: string;
      expiresAt: string;
    }> = {},
  ) => {
    const body = {
      requestId,
      keys: ['eth-1'],
      policyVersion: 3,
      officer: name as string,
      createdAt: '2026-03-02T10:00:00.000Z',
      expiresAt: '2026-03-03T10:00:00.000Z',
      ...over,
    };
    return {
      type: 'coldsign-approval',
      ...body,
      signature: toBase64(ed25519.sign(approvalMessage(body, scope), secrets[name])),
    };
  };
  const verify = (docs: unknown[], policy: Parameters<typeof verifyApprovals>[4] = null) =>
    verifyApprovals(docs, binding, officers, NOW, policy);

  it('counts each enrolled officer once', () => {
    expect(
      verify([
        approve('alice'),
        approve('bob'),
        approve('alice', { createdAt: '2026-03-02T11:00:00.000Z' }),
      ]).sort(),
    ).toEqual(['alice', 'bob']);
  });

  it.each([
    ['another request', () => approve('alice', { requestId: 'cd'.repeat(32) }), /is for another request/],
    ['an unknown officer', () => approve('mallory'), /"mallory", who is not an enrolled officer/],
    [
      'a bad signature',
      () => ({ ...approve('alice'), officer: 'bob' }),
      /signature of "bob" does not verify/,
    ],
    [
      'a changed time',
      () => ({ ...approve('alice'), createdAt: '2026-03-02T10:00:01.000Z' }),
      /does not verify/,
    ],
    ['a changed key list', () => ({ ...approve('alice'), keys: ['eth-2'] }), /does not verify/],
    ['a malformed document', () => ({ ...approve('alice'), requestId: 'xyz' }), /Approval field requestId/],
    [
      'an approval without key binding (old format)',
      () => {
        const { keys: _k, ...rest } = approve('alice');
        return rest;
      },
      /Approval field keys/,
    ],
    ['text that is not JSON', () => '{', /not valid JSON/],
  ])('refuses %s with APPROVAL_INVALID', (_name, make, message) => {
    const result = codeOf(() => verify([make()]));
    expect(result.code).toBe('APPROVAL_INVALID');
    expect(result.message).toMatch(message);
  });

  it('refuses approvals made for other signing keys with APPROVAL_WRONG_KEY', () => {
    expect(codeOf(() => verify([approve('alice', { keys: ['eth-2'] })])).code).toBe('APPROVAL_WRONG_KEY');
  });

  it('refuses an approval made under another policy version with APPROVAL_STALE', () => {
    expect(codeOf(() => verify([approve('alice', { policyVersion: 2 })])).code).toBe('APPROVAL_STALE');
  });

  it('refuses an expired approval, or one living longer than the policy allows, with APPROVAL_EXPIRED', () => {
    expect(codeOf(() => verify([approve('alice', { expiresAt: '2026-03-02T11:59:59.000Z' })])).code).toBe(
      'APPROVAL_EXPIRED',
    );
    // 24 h is the default life; a policy can shorten it
    expect(codeOf(() => verify([approve('alice', { expiresAt: '2026-03-03T10:00:01.000Z' })])).code).toBe(
      'APPROVAL_EXPIRED',
    );
    const short = { version: 3, rules: [], approvalExpiry: '1h' } as unknown as Parameters<
      typeof verifyApprovals
    >[4];
    expect(codeOf(() => verify([approve('alice')], short)).code).toBe('APPROVAL_EXPIRED');
    expect(verify([approve('alice')])).toEqual(['alice']);
  });
});
