/** Officers (name + raw Ed25519 public key) and the governance quorum, enrolled at init: projections of their audit entries. */
import { ed25519 } from '@noble/curves/ed25519.js';
import { makeError } from '../core/errors.js';
import type { Officer } from '../policy/signing.js';
import type { Auditor } from './audit.js';
import type { ColdsignDb } from './database.js';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;

export function assertOfficerName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw makeError(
      'USAGE',
      `"${name}" is not a valid officer name (1–32 letters, digits, ".", "_" or "-").`,
    );
  }
}

/** Validates a raw Ed25519 public key (64 hex characters, a point on the curve). */
export function assertOfficerPublicKey(name: string, publicKey: string): void {
  let valid = /^[0-9a-fA-F]{64}$/.test(publicKey);
  if (valid) {
    try {
      ed25519.Point.fromHex(publicKey.toLowerCase());
    } catch {
      valid = false;
    }
  }
  if (!valid) {
    throw makeError(
      'OFFICER_KEY_INVALID',
      `The public key of officer "${name}" must be 64 hex characters of an Ed25519 key.`,
      { officer: name },
    );
  }
}

/** `--officer NAME=PUBKEY` of coldsign init. */
export function parseOfficerArgument(text: string): Officer {
  const match = /^([^=]+)=([0-9a-fA-F]+)$/.exec(text.trim());
  if (!match) throw makeError('USAGE', `--officer takes NAME=PUBKEY (64 hex characters), not "${text}".`);
  const [, name = '', publicKey = ''] = match;
  assertOfficerName(name);
  assertOfficerPublicKey(name, publicKey);
  return { name, publicKey: publicKey.toLowerCase() };
}

/** Enrolled officers: the projection of "officer.enrolled" entries (store/state.ts). */
export function listOfficers(db: ColdsignDb): Officer[] {
  return db.sqlite
    .prepare('SELECT name, public_key AS publicKey FROM officers ORDER BY name')
    .all() as Officer[];
}

/** The quorum of the newest "governance.quorum" entry. */
export function getQuorum(db: ColdsignDb): number | undefined {
  const row = db.sqlite.prepare('SELECT quorum FROM governance ORDER BY seq DESC LIMIT 1').get() as
    { quorum: number } | undefined;
  return row?.quorum;
}

/**
 * Enrolls officers and sets the quorum (coldsign init) in one unit of work. The quorum must
 * be between 1 and the number of officers (QUORUM_INVALID).
 */
export async function enrollOfficers(
  db: ColdsignDb,
  auditor: Auditor,
  officers: readonly Officer[],
  quorum: number,
  now: Date,
): Promise<void> {
  const all = [...listOfficers(db), ...officers];
  const names = new Set<string>();
  const keys = new Set<string>();
  for (const officer of all) {
    assertOfficerName(officer.name);
    assertOfficerPublicKey(officer.name, officer.publicKey);
    if (names.has(officer.name))
      throw makeError('OFFICER_NAME_TAKEN', `Officer "${officer.name}" is named twice.`, {
        officer: officer.name,
      });
    if (keys.has(officer.publicKey.toLowerCase())) {
      throw makeError(
        'OFFICER_NAME_TAKEN',
        `Officer "${officer.name}" has the same public key as another officer.`,
        { officer: officer.name },
      );
    }
    names.add(officer.name);
    keys.add(officer.publicKey.toLowerCase());
  }
  if (!Number.isInteger(quorum) || quorum < 1 || quorum > all.length) {
    throw makeError(
      'QUORUM_INVALID',
      `The quorum must be between 1 and the ${all.length} enrolled officer${all.length === 1 ? '' : 's'}.`,
      { quorum },
    );
  }
  await auditor.commit(now, (tx) => {
    for (const officer of officers) {
      tx.append('officer.enrolled', { name: officer.name, publicKey: officer.publicKey.toLowerCase() });
    }
    tx.append('governance.quorum', { quorum, officers: all.map((o) => o.name) });
  });
}
