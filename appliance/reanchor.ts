/**
 * The officers' way out of a rollback alarm (docs/operations.md), for front ends: opening the home, the HSM
 * and the database under the writer lock (the ordinary unlock refuses a database the anchor does not vouch
 * for), finding the alarm, and applying a quorum-signed re-anchor request. The rules live in store/reanchor.ts.
 */
import { sign } from 'node:crypto';
import { makeError } from '../core/errors.js';
import { parseJsonStrict } from '../core/json.js';
import { Hsm } from '../hsm/index.js';
import { useSoftHsmHome } from '../hsm/softhsm.js';
import { openDatabase, type ColdsignDb } from '../store/database.js';
import { loadOfficerKey } from '../store/officer-keys.js';
import {
  applyReanchor,
  buildReanchorRequest,
  findRollback,
  parseReanchorRequest,
  reanchorSigningBytes,
  withReanchorSignature,
  type ReanchorOutcome,
  type ReanchorRequest,
} from '../store/reanchor.js';
import { withWriterHome } from './writer-home.js';

export { reanchorRequestId, type ReanchorFinding, type ReanchorRequest } from '../store/reanchor.js';

/** How a front end asks for the PIN and says that it waits for another process. */
export interface LockedHomeIo {
  readPin: () => Promise<string>;
  onWait: () => void;
}

/** Opens HSM and database of the home held for writing (the PIN asked first, so a prompt never holds the home). */
async function withLockedHsm<T>(io: LockedHomeIo, fn: (db: ColdsignDb, hsm: Hsm) => Promise<T>): Promise<T> {
  return withWriterHome(
    { ...io, readOnlyReason: 'a re-anchor writes to it.' },
    async ({ home, config, pin }) => {
      if (config.hsm.embedded) useSoftHsmHome(home.dir);
      const db = openDatabase(home.databasePath);
      try {
        const hsm = Hsm.open(config.hsm, pin!);
        try {
          return await fn(db, hsm);
        } finally {
          hsm.close();
        }
      } finally {
        db.close();
      }
    },
  );
}

/** Reads a re-anchor request document (strict JSON, bounded). */
export function parseReanchorText(text: string, source: string): ReanchorRequest {
  if (text.length > 64 * 1024)
    throw makeError('INPUT_TOO_LARGE', `${source} is too large for a re-anchor request.`);
  return parseReanchorRequest(parseJsonStrict(text, source, 'REANCHOR_INVALID'));
}

/** A request naming what the rollback alarm found; REANCHOR_NOT_NEEDED when database and anchor agree. */
export async function requestReanchor(
  io: LockedHomeIo,
  reason: string,
  lifetimeMs: number,
): Promise<ReanchorRequest> {
  return withLockedHsm(io, async (db, hsm) => {
    const found = await findRollback(db, hsm, new Date());
    if (!found)
      throw makeError(
        'REANCHOR_NOT_NEEDED',
        'The database and the HSM anchor agree: there is no rollback alarm to re-anchor.',
      );
    return buildReanchorRequest(found, reason, new Date(), lifetimeMs);
  });
}

/** The request with one more officer signature (Ed25519 over the tagged canonical request). */
export function signReanchorRequest(
  request: ReanchorRequest,
  officerKeyPem: string,
  passphrase: string,
): { signed: ReanchorRequest; officer: string } {
  const officer = loadOfficerKey(officerKeyPem, passphrase);
  const signature = sign(null, reanchorSigningBytes(request), officer.privateKey);
  return {
    signed: withReanchorSignature(request, officer.name, new Uint8Array(signature)),
    officer: officer.name,
  };
}

/** Checks quorum and findings, records `audit.reanchored` and anchors a new checkpoint. */
export async function applyReanchorRequest(
  io: LockedHomeIo,
  request: ReanchorRequest,
): Promise<ReanchorOutcome> {
  return withLockedHsm(io, (db, hsm) => applyReanchor(db, hsm, request, new Date()));
}
