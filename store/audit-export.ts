/**
 * Audit export as JSON Lines, verifiable offline with no HSM and no database:
 *   line 1: {"format":"coldsign-audit-export/1","auditPublicKey":HEX,"entries":N,"checkpoints":M,"exportedAt":ISO}
 *   then one line per checkpoint: {"checkpoint":{"seq","head","time","signature","state"}}
 *   ("state": digest of the state tables' heads the checkpoint commits to; the verifier replays
 *   the entries' projections and compares)
 *   then one line per entry: {"seq","time","type","payload":{…},"prev","hash"}
 * The payload is re-canonicalized (RFC 8785) by the verifier, so the hashes are checked from the
 * JSON values themselves. See docs/audit.md.
 */
import { makeError } from '../core/errors.js';
import { parseJsonStrict } from '../core/json.js';
import { fromHex, isHex } from '../core/bytes.js';
import { canonicalJson } from '../policy/canonical.js';
import {
  ChainVerifier,
  type AuditCheckpoint,
  type AuditEntry,
  type AuditVerification,
} from './audit-chain.js';
import { auditPublicKeyOf, iterateAudit, iterateCheckpoints } from './audit.js';
import { parseDiscardDetail, type RecordedDiscard } from './audit-discards.js';
import type { ColdsignDb } from './database.js';

export const AUDIT_EXPORT_FORMAT = 'coldsign-audit-export/1';

export interface AuditExportVerification extends AuditVerification {
  /** The audit public key the export names: compare it with the one you know from the appliance. */
  auditPublicKey: string;
  /** Its "audit.discarded" entries (tails dropped after a crash), when it has any. */
  discards?: RecordedDiscard[];
}

/** The export line by line (header, entries, checkpoints), for writing large logs as a stream. */
export function* exportAuditLines(db: ColdsignDb, now: Date = new Date(0)): Generator<string> {
  const auditPublicKey = auditPublicKeyOf(db);
  if (!auditPublicKey)
    throw makeError('HOME_NOT_INITIALIZED', 'The audit log has no audit key yet; run coldsign init.');
  db.sqlite.exec('BEGIN'); // one read snapshot for the header counts and the rows
  try {
    const { n } = db.sqlite.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number };
    const { c } = db.sqlite.prepare('SELECT COUNT(*) AS c FROM audit_checkpoints').get() as { c: number };
    yield canonicalJson({
      format: AUDIT_EXPORT_FORMAT,
      auditPublicKey,
      entries: n,
      checkpoints: c,
      exportedAt: now.toISOString(),
    });
    for (const checkpoint of iterateCheckpoints(db)) yield canonicalJson({ checkpoint });
    for (const entry of iterateAudit(db)) {
      yield `{"seq":${entry.seq},"time":${JSON.stringify(entry.time)},"type":${JSON.stringify(entry.type)},"payload":${entry.payload},"prev":${JSON.stringify(entry.prev)},"hash":${JSON.stringify(entry.hash)}}`;
    }
  } finally {
    db.sqlite.exec('COMMIT');
  }
}

/** The whole log, its checkpoints and the audit public key, as JSON Lines text. */
export function exportAudit(db: ColdsignDb, now: Date = new Date(0)): string {
  let text = '';
  for (const line of exportAuditLines(db, now)) text += `${line}\n`;
  return text;
}

function bad(line: number, what: string): never {
  throw makeError('AUDIT_EXPORT_INVALID', `Line ${line} of the audit export is not valid: ${what}.`, {
    line,
  });
}

function parseLine(text: string, line: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {}
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return bad(line, 'not a JSON object');
  // A repeated key would let the verifier and a reader of the export see different values.
  parseJsonStrict(text, `Line ${line} of the audit export`, 'AUDIT_EXPORT_INVALID');
  return value as Record<string, unknown>;
}

function toEntry(value: Record<string, unknown>, line: number): AuditEntry {
  const { seq, time, type, payload, prev, hash } = value;
  if (!Number.isSafeInteger(seq) || typeof time !== 'string' || typeof type !== 'string')
    bad(line, 'seq, time or type missing');
  if (typeof prev !== 'string' || typeof hash !== 'string') bad(line, 'prev or hash missing');
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
    bad(line, 'payload is not an object');
  return { seq: seq as number, time, type, payload: canonicalJson(payload), prev, hash };
}

function toCheckpoint(value: unknown, line: number): AuditCheckpoint {
  const c = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (
    !Number.isSafeInteger(c.seq) ||
    typeof c.head !== 'string' ||
    typeof c.time !== 'string' ||
    typeof c.signature !== 'string'
  ) {
    bad(line, 'checkpoint fields missing');
  }
  if (c.state !== undefined && typeof c.state !== 'string') bad(line, 'checkpoint state is not a digest');
  return {
    seq: c.seq as number,
    head: c.head as string,
    time: c.time as string,
    signature: c.signature as string,
    ...(typeof c.state === 'string' ? { state: c.state } : {}),
  };
}

/**
 * Verifies an export on its own: the chain, every checkpoint signature against the key named in
 * the header (or `expectedPublicKey` when given), and that the last entry is covered by a checkpoint.
 */
export function verifyAuditExport(text: string, expectedPublicKey?: string): AuditExportVerification {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return verifyAuditExportLines(lines, expectedPublicKey);
}

/** verifyAuditExport over lines (e.g. read from a stream), one entry in memory at a time. */
export function verifyAuditExportLines(
  lines: Iterable<string>,
  expectedPublicKey?: string,
): AuditExportVerification {
  const iterator = lines[Symbol.iterator]();
  const header = parseLine(iterator.next().value ?? '', 1);
  if (header.format !== AUDIT_EXPORT_FORMAT) bad(1, `the format is not ${AUDIT_EXPORT_FORMAT}`);
  const auditPublicKey = header.auditPublicKey;
  if (typeof auditPublicKey !== 'string' || !isHex(auditPublicKey) || auditPublicKey.length < 66)
    bad(1, 'no audit public key');
  if (expectedPublicKey !== undefined && expectedPublicKey.toLowerCase() !== auditPublicKey.toLowerCase()) {
    throw makeError(
      'AUDIT_CHECKPOINT_INVALID',
      'The export names another audit public key than the one expected.',
    );
  }
  // Checkpoint lines come first, so each entry is checked and forgotten as it is read.
  const checkpoints: AuditCheckpoint[] = [];
  const wanted = new Set<number>();
  let verifier: ChainVerifier | undefined;
  let entries = 0;
  let number = 1;
  const discards: RecordedDiscard[] = [];
  for (let next = iterator.next(); !next.done; next = iterator.next()) {
    number += 1;
    const value = parseLine(next.value, number);
    if ('checkpoint' in value) {
      if (verifier) bad(number, 'a checkpoint follows the entries');
      const checkpoint = toCheckpoint(value.checkpoint, number);
      checkpoints.push(checkpoint);
      wanted.add(checkpoint.seq);
      continue;
    }
    verifier ??= new ChainVerifier(wanted);
    const entry = toEntry(value, number);
    entries += 1;
    if (!verifier.firstBad) verifier.add(entry);
    if (entry.type === 'audit.discarded') {
      const detail = parseDiscardDetail(entry.payload);
      if (detail) discards.push({ seq: entry.seq, time: entry.time, ...detail });
    }
  }
  verifier ??= new ChainVerifier(wanted);
  let result = verifier.finish(checkpoints, fromHex(auditPublicKey));
  if (result.ok && (header.entries !== entries || header.checkpoints !== checkpoints.length)) {
    result = {
      ...result,
      ok: false,
      firstBad: { seq: entries, reason: 'the header counts differ from the lines exported' },
    };
  }
  return { ...result, auditPublicKey, ...(discards.length > 0 ? { discards } : {}) };
}
