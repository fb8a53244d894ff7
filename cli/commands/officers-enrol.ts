/** Parsing of `init --officer NAME=PUBKEY` and enrolment of the officers and governance quorum. */
import { makeError } from '../../core/errors.js';
import type { ColdsignDb } from '../../store/database.js';

export interface OfficerArgument {
  name: string;
  publicKey: string;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function parseOfficerArguments(values: string[]): OfficerArgument[] {
  const officers: OfficerArgument[] = [];
  for (const value of values) {
    const match = /^([^=]+)=([0-9a-fA-F]{64})$/.exec(value);
    if (!match || !NAME_RE.test(match[1]!)) {
      throw makeError('USAGE', `--officer takes NAME=PUBKEY with the officer's 64-hex Ed25519 public key; "${value}" is not that.`);
    }
    const officer = { name: match[1]!, publicKey: match[2]!.toLowerCase() };
    if (officers.some((o) => o.name === officer.name || o.publicKey === officer.publicKey)) {
      throw makeError('USAGE', `Officer ${officer.name} is given twice.`);
    }
    officers.push(officer);
  }
  return officers;
}

export function enrolGovernance(db: ColdsignDb, officers: OfficerArgument[], quorum: number, now: Date): void {
  const at = now.toISOString();
  db.transaction(() => {
    const insert = db.sqlite.prepare('INSERT INTO officers (name, public_key, enrolled_at) VALUES (?, ?, ?)');
    for (const officer of officers) insert.run(officer.name, officer.publicKey, at);
    if (quorum > 0) db.sqlite.prepare('INSERT INTO governance (id, quorum, updated_at) VALUES (1, ?, ?)').run(quorum, at);
  });
}
