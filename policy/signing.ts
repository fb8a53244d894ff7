/**
 * Officer signatures over policy documents (SPEC "Policy document"): Ed25519 (RFC 8032) over the
 * RFC 8785 canonical JSON of the document without "signatures", as base64. Pure.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { makeError } from '../core/errors.js';
import { fromHex, isHex, utf8 } from '../core/bytes.js';
import { canonicalJson } from './canonical.js';
import type { PolicyDocument } from './schema.js';

/** An enrolled officer: name and raw 32-byte Ed25519 public key as 64 hex characters. */
export interface Officer {
  name: string;
  publicKey: string;
}

/** The bytes officers sign: RFC 8785 JSON of the document without its "signatures" member. */
export function policySigningBytes(doc: PolicyDocument): Uint8Array {
  const { signatures: _signatures, ...unsigned } = doc;
  return utf8(canonicalJson(unsigned));
}

export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

export function isOfficerPublicKey(hex: string): boolean {
  return hex.length === 64 && isHex(hex);
}

/** An Ed25519 (RFC 8032) verifier of a 64-byte signature under a raw 32-byte public key. */
export type Ed25519Verify = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;

/** The pure default; a Node layer may pass a native one (store/ed25519-native.ts). */
export const nobleEd25519Verify: Ed25519Verify = (signature, message, publicKey) =>
  ed25519.verify(signature, message, publicKey);

/** Ed25519 verification that never throws (malformed keys or signatures are simply invalid). */
export function verifyEd25519(
  signature: Uint8Array,
  message: Uint8Array,
  publicKeyHex: string,
  verify: Ed25519Verify = nobleEd25519Verify,
): boolean {
  if (signature.length !== 64 || !isOfficerPublicKey(publicKeyHex)) return false;
  try {
    return verify(signature, message, fromHex(publicKeyHex));
  } catch {
    return false;
  }
}

/**
 * Checks every signature on the document: each must be by an enrolled officer and verify
 * (POLICY_SIGNATURE_INVALID otherwise), and at least `quorum` distinct officers must have signed
 * (POLICY_QUORUM_MISSING). Returns the names of the signers.
 */
export function verifyPolicySignatures(
  doc: PolicyDocument,
  officers: readonly Officer[],
  quorum: number,
  verify: Ed25519Verify = nobleEd25519Verify,
): string[] {
  const signers = verifyOfficerSignatures(
    policySigningBytes(doc),
    doc.signatures ?? [],
    officers,
    (officer, enrolled) =>
      makeError(
        'POLICY_SIGNATURE_INVALID',
        enrolled
          ? `The signature of officer "${officer}" does not verify: the policy was changed after it was signed, or the signature is damaged.`
          : `The policy is signed by "${officer}", who is not an enrolled officer.`,
        { officer },
      ),
    verify,
  );
  assertOfficerQuorum(signers, quorum, 'POLICY_QUORUM_MISSING', 'The policy');
  return [...signers];
}

/**
 * Each signature over `message` must be an enrolled officer's and verify (Ed25519, RFC 8032); `refuse` builds
 * the error for the first that is not. Returns the distinct signers.
 */
export function verifyOfficerSignatures(
  message: Uint8Array,
  entries: ReadonlyArray<{ officer: string; signature: string }>,
  officers: readonly Officer[],
  refuse: (officer: string, enrolled: boolean) => Error,
  verify: Ed25519Verify = nobleEd25519Verify,
): Set<string> {
  const signers = new Set<string>();
  for (const entry of entries) {
    const officer = officers.find((o) => o.name === entry.officer);
    if (!officer) throw refuse(entry.officer, false);
    const signature = fromBase64(entry.signature);
    if (!signature || !verifyEd25519(signature, message, officer.publicKey, verify))
      throw refuse(entry.officer, true);
    signers.add(officer.name);
  }
  return signers;
}

/** At least `quorum` distinct enrolled officers signed `subject` (a policy, a re-anchor request), or `code`. */
export function assertOfficerQuorum(
  signers: ReadonlySet<string>,
  quorum: number,
  code: 'POLICY_QUORUM_MISSING' | 'REANCHOR_QUORUM_MISSING',
  subject: string,
): void {
  if (signers.size >= quorum) return;
  const have = signers.size === 0 ? 'none' : `${signers.size} (${[...signers].join(', ')})`;
  throw makeError(
    code,
    `${subject} needs the signatures of ${quorum} enrolled officer${quorum === 1 ? '' : 's'}; it has ${have}.`,
    { quorum, signers: [...signers] },
  );
}

/** A new policy must carry a higher version than the one in force (no replay of an old policy). */
export function checkPolicyUpgrade(current: PolicyDocument | null | undefined, next: PolicyDocument): void {
  if (current && next.version <= current.version) {
    throw makeError(
      'POLICY_VERSION_STALE',
      `Policy version ${next.version} is not higher than version ${current.version} in force.`,
      { current: current.version, next: next.version },
    );
  }
}

/**
 * A policy is applied only on the appliance its officers signed it for: its `appliance` must be this
 * appliance's audit public key, so a quorum's signature on one appliance's policy is no permission on another.
 */
export function checkPolicyAppliance(next: PolicyDocument, auditPublicKey: string): void {
  if (next.appliance === auditPublicKey) return;
  throw makeError(
    'POLICY_APPLIANCE_MISMATCH',
    next.appliance === undefined
      ? `Policy version ${next.version} names no appliance: the officers must add "appliance": "${auditPublicKey}" (this appliance's audit public key) and sign it again.`
      : `Policy version ${next.version} was signed for another appliance (audit public key ${next.appliance}), not this one (${auditPublicKey}).`,
    { expected: auditPublicKey, ...(next.appliance === undefined ? {} : { named: next.appliance }) },
  );
}

/** Adds (or replaces) `officer`'s signature, made by the caller's `sign` over policySigningBytes(doc). */
export function withPolicySignature(
  doc: PolicyDocument,
  officer: string,
  signature: Uint8Array,
): PolicyDocument {
  const others = (doc.signatures ?? []).filter((s) => s.officer !== officer);
  return { ...doc, signatures: [...others, { officer, signature: toBase64(signature) }] };
}
