/**
 * Policy versions in the store. `policy apply` accepts a document only with a quorum of enrolled
 * officers' valid signatures and a higher version (SPEC); the policy in force is re-verified each
 * time it is loaded, and must be the one the audit log says was applied.
 */
import { makeError } from '../core/errors.js';
import { sha256Hex } from '../core/bytes.js';
import { canonicalJson } from '../policy/canonical.js';
import { parsePolicy, type PolicyDocument } from '../policy/schema.js';
import { checkPolicyUpgrade, policySigningBytes, verifyPolicySignatures } from '../policy/signing.js';
import type { Auditor } from './audit.js';
import type { ColdsignDb } from './database.js';
import { getQuorum, listOfficers } from './officers.js';

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
  return verifyPolicySignatures(doc, listOfficers(db), quorum);
}

function storedPolicy(db: ColdsignDb): { document: string; digest: string } | undefined {
  return db.sqlite.prepare('SELECT document, digest FROM policies ORDER BY version DESC LIMIT 1').get() as
    { document: string; digest: string } | undefined;
}

/**
 * The policy in force, or null when none was applied. Its signatures are checked again, and it must
 * match the digest of the last "policy.applied" audit entry (POLICY_SIGNATURE_INVALID / STATE_INCONSISTENT).
 */
export function loadPolicy(db: ColdsignDb): PolicyDocument | null {
  const row = storedPolicy(db);
  const audited = db.sqlite
    .prepare("SELECT payload FROM audit_log WHERE type = 'policy.applied' ORDER BY seq DESC LIMIT 1")
    .get() as { payload: string } | undefined;
  if (!row) {
    if (audited)
      throw makeError(
        'STATE_INCONSISTENT',
        'The audit log records an applied policy that the database no longer holds.',
      );
    return null;
  }
  const doc = parsePolicy(row.document);
  verifyAgainstOfficers(db, doc);
  const digest = sha256Hex(policySigningBytes(doc));
  const auditedDigest = audited ? (JSON.parse(audited.payload) as { digest?: string }).digest : undefined;
  if (digest !== row.digest || digest !== auditedDigest) {
    throw makeError(
      'STATE_INCONSISTENT',
      'The policy in the database is not the one the audit log records as applied.',
    );
  }
  return doc;
}

/** `coldsign policy apply`: validates, verifies signatures and version, stores, audits and checkpoints. */
export async function applyPolicy(
  db: ColdsignDb,
  auditor: Auditor,
  input: unknown,
  now: Date,
): Promise<AppliedPolicy> {
  const doc = parsePolicy(input);
  const signers = verifyAgainstOfficers(db, doc);
  checkPolicyUpgrade(loadPolicy(db), doc);
  const digest = sha256Hex(policySigningBytes(doc));
  await auditor.begin();
  db.transaction(() => {
    db.sqlite
      .prepare('INSERT INTO policies (version, document, digest, applied_at) VALUES (?, ?, ?, ?)')
      .run(doc.version, canonicalJson(doc), digest, now.toISOString());
    auditor.append('policy.applied', { version: doc.version, digest, signers, document: doc }, now);
  });
  await auditor.checkpoint(now);
  return { version: doc.version, digest, signers };
}
