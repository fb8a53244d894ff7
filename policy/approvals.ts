/**
 * Officer approvals of one request: Ed25519 (RFC 8032) over a domain-separated message naming the
 * request id (sha-256 of the canonical request), the officer and the time. Pure.
 */
import { z } from 'zod';
import { makeError } from '../core/errors.js';
import { parseJsonStrict } from '../core/json.js';
import { utf8 } from '../core/bytes.js';
import { canonicalJson } from './canonical.js';
import { fromBase64, verifyEd25519, type Officer } from './signing.js';
import { formatPath } from './schema.js';

export const APPROVAL_DOMAIN = 'coldsign-approval/1';

export const approvalSchema = z.strictObject({
  type: z.literal('coldsign-approval'),
  requestId: z.string().regex(/^[0-9a-f]{64}$/, { error: 'must be the 64-hex request id' }),
  officer: z.string().min(1).max(200),
  createdAt: z.iso.datetime({ error: 'must be an ISO 8601 UTC time' }),
  signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, { error: 'must be a base64 Ed25519 signature' }),
});

export type Approval = z.infer<typeof approvalSchema>;

/** The bytes an officer signs to approve `requestId`. */
export function approvalMessage(requestId: string, officer: string, createdAt: string): Uint8Array {
  return utf8(canonicalJson({ domain: APPROVAL_DOMAIN, requestId, officer, createdAt }));
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

/**
 * Verifies approvals of `requestId`: each must be for this request, by an enrolled officer, with a
 * valid signature (APPROVAL_INVALID otherwise). The same officer counts once. Returns the names.
 */
export function verifyApprovals(
  approvals: readonly unknown[],
  requestId: string,
  officers: readonly Officer[],
): string[] {
  const names = new Set<string>();
  for (const input of approvals) {
    const approval = parseApproval(input);
    if (approval.requestId !== requestId) {
      throw makeError(
        'APPROVAL_INVALID',
        `The approval by "${approval.officer}" is for another request (${approval.requestId.slice(0, 12)}…).`,
        {
          officer: approval.officer,
        },
      );
    }
    const officer = officers.find((o) => o.name === approval.officer);
    if (!officer) {
      throw makeError(
        'APPROVAL_INVALID',
        `The approval is signed by "${approval.officer}", who is not an enrolled officer.`,
        {
          officer: approval.officer,
        },
      );
    }
    const signature = fromBase64(approval.signature);
    const message = approvalMessage(approval.requestId, approval.officer, approval.createdAt);
    if (!signature || !verifyEd25519(signature, message, officer.publicKey)) {
      throw makeError(
        'APPROVAL_INVALID',
        `The approval signature of "${approval.officer}" does not verify.`,
        { officer: approval.officer },
      );
    }
    names.add(officer.name);
  }
  return [...names];
}
