/**
 * Officer approvals of one request: Ed25519 (RFC 8032) over a domain-separated message naming the
 * request id (sha-256 of the canonical request), the signing key(s) by label and by public key, the
 * appliance (its audit public key), the policy version it was made under, the officer, and when it was
 * made and expires. The public keys and the appliance are signed but not written in the file: the
 * verifier supplies its own, so an approval made on another appliance, or for another key with the same
 * label, does not verify. An approval is refused for another request
 * (APPROVAL_INVALID), other signing keys (APPROVAL_WRONG_KEY), another policy version
 * (APPROVAL_STALE) or after its expiry (APPROVAL_EXPIRED; default 24 h, policy "approvalExpiry"). Pure.
 */
import { z } from 'zod';
import { makeError } from '../core/errors.js';
import { parseJsonStrict } from '../core/json.js';
import { utf8 } from '../core/bytes.js';
import { canonicalJson } from './canonical.js';
import { fromBase64, verifyEd25519, type Officer } from './signing.js';
import { formatPath, type PolicyDocument } from './schema.js';
import { windowMs } from './velocity.js';

export const APPROVAL_DOMAIN = 'coldsign-approval/3';
export const DEFAULT_APPROVAL_EXPIRY = '24h';

export const approvalSchema = z.strictObject({
  type: z.literal('coldsign-approval'),
  requestId: z.string().regex(/^[0-9a-f]{64}$/, { error: 'must be the 64-hex request id' }),
  /** Labels of the keys that sign the request (sorted): an approval is for those keys only. */
  keys: z.array(z.string().min(1).max(64)).min(1).max(64),
  policyVersion: z.int().min(1),
  officer: z.string().min(1).max(200),
  createdAt: z.iso.datetime({ error: 'must be an ISO 8601 UTC time' }),
  expiresAt: z.iso.datetime({ error: 'must be an ISO 8601 UTC time' }),
  signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, { error: 'must be a base64 Ed25519 signature' }),
});

export type Approval = z.infer<typeof approvalSchema>;

/** Where an approval counts: this appliance and the public keys of the request's signing keys. */
export interface ApprovalScope {
  /** The appliance's audit public key (hex), bound to its HSM token. */
  appliance: string;
  /** Public keys (hex) of the signing keys. */
  keyPublicKeys: readonly string[];
}

/** What an approval binds: the request, its signing keys, the policy version in force, and where it counts. */
export interface ApprovalBinding {
  requestId: string;
  keys: readonly string[];
  policyVersion: number;
  scope: ApprovalScope;
}

/** The approval expiry of `policy` in milliseconds. */
export function approvalExpiryMs(policy: PolicyDocument | null): number {
  return windowMs(policy?.approvalExpiry ?? DEFAULT_APPROVAL_EXPIRY);
}

/** The bytes an officer signs. */
export function approvalMessage(
  approval: Omit<Approval, 'signature' | 'type'>,
  scope: ApprovalScope,
): Uint8Array {
  return utf8(
    canonicalJson({
      domain: APPROVAL_DOMAIN,
      appliance: scope.appliance,
      requestId: approval.requestId,
      keys: [...approval.keys].sort(),
      keyPublicKeys: [...scope.keyPublicKeys].sort(),
      policyVersion: approval.policyVersion,
      officer: approval.officer,
      createdAt: approval.createdAt,
      expiresAt: approval.expiresAt,
    }),
  );
}

/** Validates an approval document (parsed JSON or JSON text); APPROVAL_INVALID names the field. */
export function parseApproval(input: unknown): Approval {
  let value = input;
  if (typeof input === 'string') {
    value = parseJsonStrict(input, 'The approval file', 'APPROVAL_INVALID');
  }
  const result = approvalSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw makeError(
    'APPROVAL_INVALID',
    `Approval field ${formatPath(issue?.path ?? []) || 'document'}: ${issue?.message ?? 'invalid'}.`,
  );
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  const x = [...new Set(a)].sort();
  const y = [...new Set(b)].sort();
  return x.length === y.length && x.every((k, i) => k === y[i]);
}

/**
 * Verifies approvals of one request: each must be for this request, these signing keys and this
 * policy version, unexpired at `now` and no longer-lived than the policy allows, by an enrolled
 * officer, with a valid signature. The same officer counts once. Returns the names.
 */
export function verifyApprovals(
  approvals: readonly unknown[],
  binding: ApprovalBinding,
  officers: readonly Officer[],
  now: Date,
  policy: PolicyDocument | null,
): string[] {
  const names = new Set<string>();
  const maxLife = approvalExpiryMs(policy);
  for (const input of approvals) {
    const approval = parseApproval(input);
    const who = { officer: approval.officer };
    if (approval.requestId !== binding.requestId) {
      throw makeError(
        'APPROVAL_INVALID',
        `The approval by "${approval.officer}" is for another request (${approval.requestId.slice(0, 12)}…).`,
        who,
      );
    }
    const officer = officers.find((o) => o.name === approval.officer);
    if (!officer) {
      throw makeError(
        'APPROVAL_INVALID',
        `The approval is signed by "${approval.officer}", who is not an enrolled officer.`,
        who,
      );
    }
    const signature = fromBase64(approval.signature);
    if (
      !signature ||
      !verifyEd25519(signature, approvalMessage(approval, binding.scope), officer.publicKey)
    ) {
      throw makeError(
        'APPROVAL_INVALID',
        `The approval signature of "${approval.officer}" does not verify (it may have been made on another appliance or for another key).`,
        who,
      );
    }
    if (!sameKeys(approval.keys, binding.keys)) {
      throw makeError(
        'APPROVAL_WRONG_KEY',
        `The approval by "${approval.officer}" is for key(s) ${approval.keys.join(', ')}, not ${binding.keys.join(', ')}.`,
        who,
      );
    }
    if (approval.policyVersion !== binding.policyVersion) {
      throw makeError(
        'APPROVAL_STALE',
        `The approval by "${approval.officer}" was made under policy version ${approval.policyVersion}; version ${binding.policyVersion} is in force.`,
        who,
      );
    }
    const created = Date.parse(approval.createdAt);
    const expires = Date.parse(approval.expiresAt);
    if (now.getTime() >= expires || expires - created > maxLife || expires <= created) {
      throw makeError(
        'APPROVAL_EXPIRED',
        `The approval by "${approval.officer}" expired at ${approval.expiresAt} (approvals last at most ${policy?.approvalExpiry ?? DEFAULT_APPROVAL_EXPIRY}).`,
        who,
      );
    }
    names.add(officer.name);
  }
  return [...names];
}
