/**
 * The hash chain of the audit log. Entry n's hash is
 *   SHA-256( JSON ["coldsign-audit/1", seq, time, type, prevHash] ‖ "\n" ‖ canonicalPayload )
 * where canonicalPayload is the RFC 8785 (JCS) form of the payload and prevHash the hash of entry
 * n−1 (64 zeros for entry 1). Checkpoints sign SHA-256 of the JCS form of
 * {"domain":"coldsign-audit-checkpoint/2","head":…,"seq":…,"state":…,"time":…} with secp256k1 ECDSA
 * (SEC 1), low-S (BIP-62) r‖s, where state is the digest of the state tables' heads
 * (store/state.ts); checkpoints made before state digests existed use domain /1 without "state".
 * This module has no HSM: it is all an offline verifier needs.
 */
import { createHash } from 'node:crypto';
import { entryHash, followsSigning, signingRequestIds } from './audit-entry-hash.js';
import { canonicalJson } from '../policy/canonical.js';
import { makeError } from '../core/errors.js';
import { fromHex, isHex } from '../core/bytes.js';
import { fastVerifier } from '../hsm/native-verifier.js';
import { StateReplay, isStateType, type StateHeads, type StateRow } from './state.js';

export const AUDIT_GENESIS_HASH = '0'.repeat(64);
const CHECKPOINT_DOMAIN = 'coldsign-audit-checkpoint/1';
const CHECKPOINT_DOMAIN_STATE = 'coldsign-audit-checkpoint/2';
const TYPE_RE = /^[a-z][a-z0-9._-]{0,63}$/;
/** Words of field names that may hold secrets: the log refuses such fields outright (no secret is ever logged). */
const SECRET_WORDS = new Set([
  'pin',
  'puk',
  'passphrase',
  'password',
  'secret',
  'private',
  'mnemonic',
  'seed',
  'xprv',
  'prv',
]);

/** "privateKey" → ["private", "key"]; "so_pin" → ["so", "pin"]. */
function wordsOf(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

export interface AuditEntry {
  seq: number;
  time: string;
  type: string;
  /** RFC 8785 canonical JSON of the payload. */
  payload: string;
  prev: string;
  hash: string;
}

export interface AuditCheckpoint {
  seq: number;
  head: string;
  time: string;
  /** Hex r‖s (64 bytes, low-S) by the audit key over checkpointDigest(). */
  signature: string;
  /** Digest of the state tables' heads at this entry (store/state.ts stateDigest); absent on old checkpoints. */
  state?: string;
}

export interface AuditHead {
  seq: number;
  hash: string;
}

/**
 * 'all' checks every checkpoint's signature; 'newest' checks every checkpoint's head against the
 * chain but only the newest one's signature, which through the hash chain already vouches for
 * every entry before it (much faster on long logs).
 */
export type SignatureCheck = 'all' | 'newest';

export interface AuditVerification {
  ok: boolean;
  entries: number;
  checkpoints: number;
  head: AuditHead;
  /** The first entry that does not verify, and why (in words). */
  firstBad?: { seq: number; reason: string };
  /** "signing.started" entries with no "signature" or "signing.failed" after them: a signature may exist. */
  unfinishedSignings?: Array<{ seq: number; requestIds: string[] }>;
  /** Seqs of the re-anchors and discards the walk verified (store/audit-verify-range.ts LISTED_TYPES), in order. */
  listed?: number[];
}

export { entryHash };

export function checkpointDigest(seq: number, head: string, time: string, state?: string): Uint8Array {
  const text =
    state === undefined
      ? canonicalJson({ domain: CHECKPOINT_DOMAIN, head, seq, time })
      : canonicalJson({ domain: CHECKPOINT_DOMAIN_STATE, head, seq, state, time });
  return new Uint8Array(createHash('sha256').update(text).digest());
}

export function verifyCheckpointSignature(checkpoint: AuditCheckpoint, publicKey: Uint8Array): boolean {
  if (!isHex(checkpoint.signature) || checkpoint.signature.length !== 128) return false;
  try {
    const digest = checkpointDigest(checkpoint.seq, checkpoint.head, checkpoint.time, checkpoint.state);
    // libsecp256k1 (falling back to @noble/curves): requires low-S, as the audit key's signatures are.
    return fastVerifier.verify(fromHex(checkpoint.signature), digest, publicKey);
  } catch {
    return false;
  }
}

/** RFC 8785 form of an audit payload; refuses fields that could hold a secret and values JSON cannot carry. */
export function canonicalPayload(payload: unknown): string {
  rejectSecrets(payload);
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw makeError('INTERNAL', 'An audit payload must be a JSON object.');
  }
  try {
    return canonicalJson(payload);
  } catch (error) {
    throw makeError('INTERNAL', 'An audit payload could not be serialized as JSON.', {}, error);
  }
}

/**
 * Fields whose values are request content from the online coordinator (summaries, typed data,
 * messages, policy documents): logged verbatim, their own field names are not ours to judge.
 */
const REQUEST_CONTENT_FIELDS = new Set(['summary', 'details', 'document', 'message', 'typedData']);

/** Verdicts of field names already judged (a payload repeats the same few names across its arrays). */
const secretNameVerdicts = new Map<string, boolean>();

function isSecretName(key: string): boolean {
  let verdict = secretNameVerdicts.get(key);
  if (verdict === undefined) {
    verdict = wordsOf(key).some((word) => SECRET_WORDS.has(word));
    if (secretNameVerdicts.size < 4096) secretNameVerdicts.set(key, verdict);
  }
  return verdict;
}

/** `path` is the field names down to `value`, joined only when a field is refused. */
function rejectSecrets(value: unknown, path: string[] = []): void {
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      path.push(String(i));
      rejectSecrets(value[i], path);
      path.pop();
    }
    return;
  }
  for (const key of Object.keys(value)) {
    if (isSecretName(key)) {
      throw makeError(
        'AUDIT_SECRET_REFUSED',
        `The audit log refuses the field "${[...path, key].join('.')}": it may hold a secret.`,
      );
    }
    if (REQUEST_CONTENT_FIELDS.has(key)) continue;
    path.push(key);
    rejectSecrets((value as Record<string, unknown>)[key], path);
    path.pop();
  }
}

/** True for a name an entry can have: what assertAuditType lets through. */
export function isAuditType(type: string): boolean {
  return TYPE_RE.test(type);
}

export function assertAuditType(type: string): void {
  if (!isAuditType(type)) throw makeError('INTERNAL', `"${type}" is not a valid audit entry type.`);
}

/**
 * Checks entries one by one in the order given, then the checkpoints. Used by the database
 * verifier and the offline export verifier alike; stops at the first bad entry.
 */
export class ChainVerifier {
  private count = 0;
  private prev = AUDIT_GENESIS_HASH;
  private readonly hashes = new Map<number, { hash: string; state: string }>();
  private bad: { seq: number; reason: string } | undefined;
  private readonly replay: StateReplay;
  private readonly signing = new SigningTracker();

  /** `onStateRow` sees each replayed state row with its link (audit verify compares the stored tables). */
  constructor(
    private readonly wantedCheckpointSeqs: ReadonlySet<number>,
    onStateRow?: (row: StateRow, link: string) => void,
  ) {
    this.replay = new StateReplay(onStateRow);
  }

  /** The last verified entry. */
  get head(): AuditHead {
    return { seq: this.count, hash: this.prev };
  }

  /** Digest of the state replayed from the entries verified so far. */
  get stateDigest(): string {
    return this.replay.digest();
  }

  /** Heads of the state tables replayed from the entries verified so far. */
  get stateHeads(): Readonly<StateHeads> {
    return this.replay.heads;
  }

  get unfinishedSignings(): Array<{ seq: number; requestIds: string[] }> {
    return this.signing.unfinished();
  }

  /** The first bad entry found so far (chain links and contents only). */
  get firstBad(): { seq: number; reason: string } | undefined {
    return this.bad;
  }

  /** Feeds the next entry; returns false once the chain is broken. */
  add(entry: AuditEntry): boolean {
    if (this.bad) return false;
    const expected = this.count + 1;
    if (entry.seq !== expected) {
      const reason =
        entry.seq > expected
          ? `entry ${expected} is missing (the next entry found is ${entry.seq}): entries were deleted`
          : `entry ${entry.seq} appears out of order after entry ${this.count}: entries were reordered or duplicated`;
      this.bad = { seq: expected, reason };
      return false;
    }
    if (entry.prev !== this.prev) {
      this.bad = {
        seq: entry.seq,
        reason: `entry ${entry.seq} does not link to the hash of entry ${expected - 1}: an entry was inserted, deleted or reordered`,
      };
      return false;
    }
    if (entryHash(entry.seq, entry.time, entry.type, entry.payload, entry.prev) !== entry.hash) {
      this.bad = {
        seq: entry.seq,
        reason: `entry ${entry.seq} was modified: its content does not match its hash`,
      };
      return false;
    }
    this.count = expected;
    this.prev = entry.hash;
    try {
      // The payload is parsed once, and only for the types that project state or track signing.
      const needed = isStateType(entry.type) || SigningTracker.follows(entry.type);
      const parsed: unknown = needed ? JSON.parse(entry.payload) : undefined;
      if (needed) {
        this.replay.add(entry, parsed);
        this.signing.add(entry, parsed);
      }
    } catch {
      this.bad = { seq: entry.seq, reason: `entry ${entry.seq} has a payload that is not valid JSON` };
      return false;
    }
    if (this.wantedCheckpointSeqs.has(entry.seq))
      this.hashes.set(entry.seq, { hash: entry.hash, state: this.replay.digest() });
    return true;
  }

  /** Checks every checkpoint's signature and head, and that the last entry is covered by one. */
  finish(
    checkpoints: readonly AuditCheckpoint[],
    publicKey: Uint8Array,
    signatures: SignatureCheck = 'all',
  ): AuditVerification {
    const head = { seq: this.count, hash: this.count === 0 ? AUDIT_GENESIS_HASH : this.prev };
    const unfinished = this.signing.unfinished();
    const result = (firstBad?: { seq: number; reason: string }): AuditVerification => ({
      ok: firstBad === undefined,
      entries: this.count,
      checkpoints: checkpoints.length,
      head,
      ...(firstBad ? { firstBad } : {}),
      ...(unfinished.length > 0 ? { unfinishedSignings: unfinished } : {}),
    });
    if (this.bad) return result(this.bad);
    let covered = 0;
    const newest = checkpoints.reduce((max, c) => Math.max(max, c.seq), -1);
    for (const checkpoint of checkpoints) {
      if (checkpoint.seq > this.count) {
        return result({
          seq: this.count + 1,
          reason: `a signed checkpoint covers entry ${checkpoint.seq} but the log ends at entry ${this.count}: entries were removed from the end`,
        });
      }
      const checkSignature = signatures === 'all' || checkpoint.seq === newest;
      if (checkSignature && !verifyCheckpointSignature(checkpoint, publicKey)) {
        return result({
          seq: checkpoint.seq,
          reason: `the checkpoint at entry ${checkpoint.seq} has no valid audit-key signature`,
        });
      }
      const covered0 = { hash: AUDIT_GENESIS_HASH, state: new StateReplay().digest() };
      const coveredAt = checkpoint.seq === 0 ? covered0 : this.hashes.get(checkpoint.seq);
      if (coveredAt?.hash !== checkpoint.head) {
        return result({
          seq: checkpoint.seq,
          reason: `entry ${checkpoint.seq} differs from the one its signed checkpoint covers`,
        });
      }
      if (checkpoint.state !== undefined && coveredAt.state !== checkpoint.state) {
        return result({
          seq: checkpoint.seq,
          reason: `the state digest of the checkpoint at entry ${checkpoint.seq} is not the state the log's entries project`,
        });
      }
      covered = Math.max(covered, checkpoint.seq);
    }
    if (covered < this.count) {
      return result({
        seq: covered + 1,
        reason: `entries ${covered + 1} to ${this.count} are not covered by a signed checkpoint`,
      });
    }
    return result();
  }
}

/**
 * Follows "signing.started" entries (the request ids about to be signed, checkpointed before the
 * HSM is asked) and the "signature" / "signing.failed" entries that close them.
 */
export class SigningTracker {
  private readonly open = new Map<string, number>();

  static follows(type: string): boolean {
    return followsSigning(type);
  }

  /** `parsed` is the entry's payload already parsed by the caller, if it was. */
  add(entry: AuditEntry, parsed?: unknown): void {
    if (!SigningTracker.follows(entry.type)) return;
    const ids = signingRequestIds(parsed ?? JSON.parse(entry.payload));
    this.record(entry.type === 'signing.started', entry.seq, ids);
  }

  /** True while some signing is unfinished. */
  get hasOpen(): boolean {
    return this.open.size > 0;
  }

  /** The request ids whose signing is unfinished. */
  openIds(): string[] {
    return [...this.open.keys()];
  }

  /** The request ids an entry starts signing (`started`) or closes (a signature or a failure). */
  record(started: boolean, seq: number, ids: readonly string[]): void {
    for (const id of ids) {
      if (started) this.open.set(id, seq);
      else this.open.delete(id);
    }
  }

  unfinished(): Array<{ seq: number; requestIds: string[] }> {
    const bySeq = new Map<number, string[]>();
    for (const [id, seq] of this.open) bySeq.set(seq, [...(bySeq.get(seq) ?? []), id]);
    return [...bySeq].sort((a, b) => a[0] - b[0]).map(([seq, requestIds]) => ({ seq, requestIds }));
  }
}
