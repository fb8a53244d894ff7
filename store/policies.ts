/**
 * Policy versions in the store. `policy apply` accepts a document only with a quorum of enrolled
 * officers' valid signatures and a higher version (SPEC); the policy in force is re-verified each
 * time it is loaded, and must be the one the audit log says was applied.
 */
import { makeError } from '../core/errors.js';
import { sha256Hex } from '../core/bytes.js';
import { parsePolicy, type PolicyDocument } from '../policy/schema.js';
import {
  checkPolicyAppliance,
  checkPolicyUpgrade,
  policySigningBytes,
  verifyPolicySignatures,
} from '../policy/signing.js';
import type { Auditor } from './audit.js';
import { nativeEd25519Verify } from './ed25519-native.js';
import type { ColdsignDb } from './database.js';
import { getQuorum, listOfficers } from './officers.js';
// Stored policies may register wallets: their descriptor library is loaded here, by the I/O layer.
import './descriptor-library.js';

export interface AppliedPolicy {
  version: number;
  /** sha-256 of the signed bytes (RFC 8785 without "signatures"). */
  digest: string;
  signers: string[];
}

function verifyAgainstOfficers(db: ColdsignDb, doc: PolicyDocument): string[] {
  const quorum = getQuorum(db);
  if (quorum === undefined) {
    throw makeError(
      'POLICY_QUORUM_MISSING',
      'No officers are enrolled, so no policy can be accepted (run coldsign init with --officer).',
    );
  }
  return verifyPolicySignatures(doc, listOfficers(db), quorum, nativeEd25519Verify);
}

interface PolicyRow {
  seq: number;
  document: string;
  digest: string;
}

function storedPolicy(db: ColdsignDb): PolicyRow | undefined {
  return db.sqlite
    .prepare('SELECT seq, document, digest FROM policies ORDER BY version DESC, seq DESC LIMIT 1')
    .get() as PolicyRow | undefined;
}

/**
 * The policy in force (wallets included), or null when none was applied: the projection of the
 * newest "policy.applied" entry. Its officer signatures are checked again, and its row must match
 * the entry it came from (looked up by sequence number; POLICY_SIGNATURE_INVALID /
 * STATE_INCONSISTENT). When unlocked, the auditor has also verified the table against the
 * checkpoint pinned in the HSM (Auditor.verifyState).
 */
export function loadPolicy(db: ColdsignDb): PolicyDocument | null {
  const row = storedPolicy(db);
  if (!row) return null;
  const entry = db.sqlite.prepare('SELECT type, payload FROM audit_log WHERE seq = ?').get(row.seq) as
    { type: string; payload: string } | undefined;
  const audited =
    entry?.type === 'policy.applied' ? (JSON.parse(entry.payload) as { digest?: string }) : undefined;
  const doc = parsePolicy(row.document);
  verifyAgainstOfficers(db, doc);
  const digest = sha256Hex(policySigningBytes(doc));
  if (digest !== row.digest || digest !== audited?.digest) {
    throw makeError(
      'STATE_INCONSISTENT',
      'The policy in the database is not the one the audit log records as applied.',
    );
  }
  return doc;
}

/**
 * `coldsign policy apply`: validates, verifies signatures, version and appliance (this audit key, checked by
 * the unlocked auditor's HSM key), then applies it in one unit of work. A policy in force is not re-checked
 * against the appliance when loaded: the audit log records that it was applied here.
 */
export async function applyPolicy(auditor: Auditor, input: unknown, now: Date): Promise<AppliedPolicy> {
  const db = auditor.db;
  const doc = parsePolicy(input);
  const signers = verifyAgainstOfficers(db, doc);
  checkPolicyUpgrade(loadPolicy(db), doc);
  checkPolicyAppliance(doc, auditor.publicKeyHex);
  const digest = sha256Hex(policySigningBytes(doc));
  await auditor.commit(now, (tx) =>
    tx.append('policy.applied', { version: doc.version, digest, signers, document: doc }),
  );
  return { version: doc.version, digest, signers };
}
