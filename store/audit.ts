/**
 * The append-only audit log in the database, its HSM-signed checkpoints and the anti-rollback pin.
 * The latest checkpoint is written both to the database and, as a private data object, into the
 * HSM token; the database head must descend from the pinned checkpoint, or nothing is signed.
 * Every change of state is one unit of work, Auditor.commit(now, tx => …): begin (pin open) →
 * append entries, each applying its state projection (store/state.ts) in the same transaction →
 * checkpoint committing to the head and the state digest, closing the pin (or keeping it open when
 * the unit of work continues: signing.started → signatures). An entry counts only once a checkpoint
 * signed in the HSM and pinned covers it: entries a crashed process left beyond an open pin are
 * discarded at the next start-up ("audit.discarded"), never adopted. See docs/audit.md.
 */
import { isStoreDamage, makeError } from '../core/errors.js';
import { fromHex, toHex, utf8 } from '../core/bytes.js';
import { compressPublicKey } from '../core/signature.js';
import {
  AUDIT_GENESIS_HASH,
  assertAuditType,
  canonicalPayload,
  checkpointDigest,
  entryHash,
  verifyCheckpointSignature,
  type AuditCheckpoint,
  type AuditEntry,
  type AuditHead,
  type AuditVerification,
  type SignatureCheck,
} from './audit-chain.js';
import type { ColdsignDb } from './database.js';
import { signingRequestIds } from './audit-entry-hash.js';
import { verifyFullLog, verifyInThread, type FullVerifyOptions } from './audit-verify.js';
import { TailRecord, type DiscardDetail } from './audit-discards.js';
import { getSetting, setSetting } from './settings.js';
import { bucketsAfter, LedgerIndex } from './outpoint-ledger.js';
import {
  FULL_VERIFY_RESULT_SETTING,
  FULL_VERIFY_SETTING,
  type LastFullVerification,
} from './audit-freshness.js';
import {
  SMALL_TABLES,
  STATE_TABLES,
  applyRows,
  clearState,
  deleteStateAfter,
  emptyHeads,
  headAt,
  nextLink,
  parseHeads,
  projectEntry,
  rowsAfter,
  stateDigest,
  verifyTableHead,
  verifyWholeTable,
  type StateHeads,
  type StateRow,
  type StateTable,
} from './state.js';

export type { AuditCheckpoint, AuditEntry, AuditHead, AuditVerification, SignatureCheck };

/** Signs checkpoints with the audit key (an HSM key: non-extractable secp256k1). */
export interface CheckpointSigner {
  /** SEC1 public key (compressed or uncompressed) of the audit key. */
  readonly publicKey: Uint8Array;
  /** Signs a 32-byte digest; returns 64 bytes r‖s, low-S. */
  sign(digest: Uint8Array): Promise<Uint8Array>;
}

/** Where the latest checkpoint is pinned, out of reach of whoever can write the database (the HSM token). */
export interface PinStore {
  /** Every pinned value found: none before init, one normally, two after a crash in the middle of a write. */
  read(): Promise<Uint8Array[]>;
  write(value: Uint8Array): Promise<void>;
}

export interface AuditPorts {
  signer: CheckpointSigner;
  pins: PinStore;
}

const AUDIT_KEY_SETTING = 'audit.publicKey';

type EntryRow = [number, string, string, string, string, string];

export function auditHead(db: ColdsignDb): AuditHead {
  const row = db.sqlite.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as
    AuditHead | undefined;
  return row ?? { seq: 0, hash: AUDIT_GENESIS_HASH };
}

function entryAt(db: ColdsignDb, seq: number): AuditEntry | undefined {
  return db.sqlite
    .prepare('SELECT seq, time, type, payload, prev_hash AS prev, hash FROM audit_log WHERE seq = ?')
    .get(seq) as AuditEntry | undefined;
}

/**
 * Appends one raw entry, without its state projection. Only Auditor.commit (which also applies the
 * projection) and tests that forge entries call it. The payload is stored in its RFC 8785 form;
 * fields that could hold a secret are refused.
 */
export function appendAudit(db: ColdsignDb, type: string, payload: unknown, now: Date): AuditEntry {
  assertAuditType(type);
  const text = canonicalPayload(payload);
  const time = now.toISOString();
  return db.transaction(() => {
    const head = auditHead(db);
    const seq = head.seq + 1;
    const hash = entryHash(seq, time, type, text, head.hash);
    db.sqlite
      .prepare('INSERT INTO audit_log (seq, time, type, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)')
      .run(seq, time, type, text, head.hash, hash);
    return { seq, time, type, payload: text, prev: head.hash, hash };
  });
}

const INSERT_ENTRY =
  'INSERT INTO audit_log (seq, time, type, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)';

/** Appends an entry after `head` inside the caller's transaction (the unit of work knows its head). */
function insertEntry(db: ColdsignDb, head: AuditHead, type: string, payload: unknown, now: Date): AuditEntry {
  assertAuditType(type);
  const text = canonicalPayload(payload);
  const time = now.toISOString();
  const seq = head.seq + 1;
  const hash = entryHash(seq, time, type, text, head.hash);
  db.statement(INSERT_ENTRY).run(seq, time, type, text, head.hash, hash);
  return { seq, time, type, payload: text, prev: head.hash, hash };
}

interface CheckpointRow {
  seq: number;
  head: string;
  time: string;
  signature: string;
  state: string | null;
}

function toCheckpoint(row: CheckpointRow): AuditCheckpoint {
  const heads = parseHeads(row.state);
  const checkpoint: AuditCheckpoint = {
    seq: row.seq,
    head: row.head,
    time: row.time,
    signature: row.signature,
  };
  if (heads) checkpoint.state = stateDigest(heads);
  else if (row.state) checkpoint.state = 'unreadable';
  return checkpoint;
}

const CHECKPOINT_SELECT = 'SELECT seq, head_hash AS head, time, signature, state FROM audit_checkpoints';

export function readCheckpoints(db: ColdsignDb): AuditCheckpoint[] {
  return (db.sqlite.prepare(`${CHECKPOINT_SELECT} ORDER BY seq`).all() as CheckpointRow[]).map(toCheckpoint);
}

/** Checkpoints in sequence order, one at a time (flat memory on long logs). */
export function* iterateCheckpoints(db: ColdsignDb): Generator<AuditCheckpoint> {
  for (const row of db.sqlite
    .prepare(`${CHECKPOINT_SELECT} ORDER BY seq`)
    .iterate() as IterableIterator<CheckpointRow>)
    yield toCheckpoint(row);
}

const ENTRY_SELECT = 'SELECT seq, time, type, payload, prev_hash, hash FROM audit_log';

/** Every entry in sequence order (for export and verification). */
export function* iterateAudit(db: ColdsignDb, afterSeq = 0): Generator<AuditEntry> {
  const rows = db.sqlite.prepare(`${ENTRY_SELECT} WHERE seq > ? ORDER BY seq`).raw();
  for (const [seq, time, type, payload, prev, hash] of rows.iterate(afterSeq) as IterableIterator<EntryRow>) {
    yield { seq, time, type, payload, prev, hash };
  }
}

/**
 * Verifies the whole chain (hashing each entry once), the state each checkpoint commits to (by
 * replaying the projections), and the checkpoints streamed alongside: every signature with 'all',
 * only the newest with 'newest' (the chain vouches for the rest). Names the first bad entry.
 */
export function verifyAudit(
  db: ColdsignDb,
  auditPublicKey: Uint8Array | string,
  signatures: SignatureCheck = 'all',
): AuditVerification {
  const publicKey = typeof auditPublicKey === 'string' ? fromHex(auditPublicKey) : auditPublicKey;
  return verifyInThread(db, publicKey, signatures, iterateCheckpoints, { tables: false });
}

/** The audit public key this database is bound to (compressed hex), if any. */
export function auditPublicKeyOf(db: ColdsignDb): string | undefined {
  return getSetting(db, AUDIT_KEY_SETTING);
}

/** When `audit verify` last verified the whole chain (ISO 8601), if ever (see store/audit-freshness.ts). */
export function lastFullVerification(db: ColdsignDb): string | undefined {
  return getSetting(db, FULL_VERIFY_SETTING);
}

/**
 * The token's pin: the latest checkpoint (its `state` digest included, which the signature covers;
 * the table heads themselves are kept with the checkpoint row and checked against that digest), and
 * whether entries may follow it.
 */
interface Pin extends AuditCheckpoint {
  /**
   * True from begin() to the closing checkpoint (and after a checkpoint that keeps it open): entries
   * beyond the checkpoint may exist, not yet covered by a pinned checkpoint. Found so at start-up,
   * they are what a process that died left unfinished, and are discarded (never adopted).
   */
  open: boolean;
  /** Write counter: the highest generation wins when a crashed write left two pins. */
  gen: number;
  /**
   * Root of the outpoint ledger's index at this checkpoint (store/outpoint-ledger.ts), bound by the pin's anchor
   * as the generation and open flag are (not covered by the checkpoint signature); absent in pins written before
   * the index.
   */
  ledger?: string;
}

function parsePin(bytes: Uint8Array): Pin {
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes)) as Pin;
    if (
      Number.isSafeInteger(value.seq) &&
      typeof value.head === 'string' &&
      typeof value.time === 'string' &&
      typeof value.signature === 'string'
    ) {
      const gen = Number.isSafeInteger(value.gen) ? value.gen : 0;
      const state =
        typeof value.state === 'string' && /^[0-9a-f]{64}$/.test(value.state) ? value.state : undefined;
      const ledger =
        typeof value.ledger === 'string' && /^[0-9a-f]{64}$/.test(value.ledger) ? value.ledger : undefined;
      return {
        seq: value.seq,
        head: value.head,
        time: value.time,
        signature: value.signature,
        open: value.open === true,
        gen,
        ...(state ? { state } : {}),
        ...(ledger ? { ledger } : {}),
      };
    }
  } catch {}
  throw makeError('AUDIT_CHECKPOINT_INVALID', 'The audit checkpoint pinned in the HSM token is unreadable.');
}

function encodePin(pin: Pin): Uint8Array {
  return utf8(JSON.stringify(pin));
}

/** Deletes the entries after `seq` and any checkpoint row after it (a discard; the caller's transaction). */
function deleteEntriesAfter(sqlite: ColdsignDb['sqlite'], seq: number): void {
  sqlite.prepare('DELETE FROM audit_log WHERE seq > ?').run(seq);
  sqlite.prepare('DELETE FROM audit_checkpoints WHERE seq > ?').run(seq);
}

function rollback(message: string, info: Record<string, number> = {}): never {
  throw makeError('AUDIT_ROLLBACK', message, info);
}

function tampered(message: string, seq: number): never {
  throw makeError('AUDIT_TAMPERED', message, { seq });
}

/** The unit of work's view of the log: append an entry; its state projection is applied with it. */
export interface AuditTx {
  readonly db: ColdsignDb;
  append(type: string, payload: unknown): AuditEntry;
}

export interface CommitOptions {
  /**
   * After the transaction: true (default) signs and pins a checkpoint and closes the pin; 'open' signs
   * and pins a checkpoint but keeps the pin open, because the same unit of work continues (the
   * signatures after "signing.started"), so the next commit needs no begin; false leaves the pin open
   * with no checkpoint (the next commit's checkpoint covers these entries).
   */
  checkpoint?: boolean | 'open';
}

export interface CheckpointOptions {
  /** Keep the pin open: the entries the same unit of work appends next are expected (docs/audit.md). */
  keepOpen?: boolean;
}

/** State entries read at a time when the state tables are rebuilt from the log. */
const STATE_ENTRY_PAGE = 1000;

/** State entry types, whose projections fill the state tables (store/state.ts projectEntry). */
const STATE_TYPES = [
  'officer.enrolled',
  'governance.quorum',
  'key.registered',
  'policy.applied',
  'signing.started',
  'signature',
  'approval',
];

/** What a process that stopped before its checkpoint left, as the next start-up found it (docs/audit.md). */
export interface StartupInterruption {
  /** The "audit.discarded" entry start-up wrote, and what it records of the dropped tail. */
  discard?: { seq: number; detail: DiscardDetail };
  /** The signing announced at the pinned entry, which nothing in the log closes now. */
  signing?: { seq: number; requestIds: string[] };
}

export class Auditor {
  /** The head this process knows to be genuine: the pinned checkpoint or an entry it appended since. */
  private knownHead: AuditHead = { seq: 0, hash: AUDIT_GENESIS_HASH };
  /** The pin as this process last read or wrote it. */
  private pinned: Pin | undefined;
  /** A begin being written (the pin marked open), awaited by the commit that needs it. */
  private beginning: Promise<void> | undefined;
  /** The head when `beginAhead` started a begin that no commit has used yet. */
  private openedAhead: AuditHead | undefined;
  /** Verified heads of the state tables at knownHead. */
  private heads: StateHeads = emptyHeads();
  /** The outpoint ledger's index at knownHead, checked against the pin's root. */
  private ledger: LedgerIndex = LedgerIndex.empty();
  /** What start-up found a stopped process left unfinished (said at unlock), if anything. */
  private stopped: StartupInterruption | undefined;

  private constructor(
    readonly db: ColdsignDb,
    private readonly signer: CheckpointSigner,
    private readonly pins: PinStore,
  ) {}

  /**
   * Start-up, independent of the log's length: binds the database to the audit key, verifies the
   * pinned checkpoint's signature and the pinned entry's hash (AUDIT_ROLLBACK when the database is
   * older or different) and checks the state tables against the heads the checkpoint commits to.
   * Entries after the pinned checkpoint (a process died between begin and checkpoint) are not
   * adopted: no signed checkpoint covers them, and whoever can write the database file could have
   * written them. They must still chain from the pinned entry (AUDIT_TAMPERED otherwise); then they
   * and their state rows are deleted, an "audit.discarded" entry records what was dropped, and a
   * checkpoint closes the pin (discardTail).
   */
  static async open(db: ColdsignDb, ports: AuditPorts, now: Date): Promise<Auditor> {
    const auditor = new Auditor(db, ports.signer, ports.pins);
    auditor.bindKey();
    const pinned = await auditor.readPin();
    const head = auditHead(db);
    auditor.checkAgainstPin(pinned, head);
    auditor.pinned = pinned;
    const pinnedSeq = pinned?.seq ?? 0;
    if (head.seq > pinnedSeq && !pinned?.open) {
      tampered(
        `Audit entries ${pinnedSeq + 1} to ${head.seq} were added to the database outside coldsign (the HSM checkpoint was closed).`,
        pinnedSeq + 1,
      );
    }
    if (pinned && pinned.seq > 0 && pinned.state === undefined) {
      // A log from before state digests: verify it whole once and rebuild the state from it, after
      // discarding a tail left beyond its open pin (the same discard as below, in the same transaction).
      const tail = head.seq > pinnedSeq ? auditor.verifyTail(pinnedSeq) : undefined;
      auditor.rebuildFromLog(pinned, tail, now);
      if (pinned.open) auditor.noteStopped(pinnedSeq, tail);
      await auditor.checkpoint(now);
      return auditor;
    }
    const pinnedHeads = auditor.pinnedHeads(pinned);
    if (head.seq > pinnedSeq) {
      // The pin is open (a closed one was refused above): a unit of work that never reached its checkpoint.
      const tail = auditor.verifyTail(pinnedSeq);
      auditor.discardTail(pinned!, pinnedHeads, tail, now);
      auditor.noteStopped(pinnedSeq, tail);
      await auditor.checkpoint(now);
      return auditor;
    }
    auditor.knownHead = head;
    auditor.heads = auditor.checkState(pinnedHeads, pinnedSeq, [], head.seq);
    auditor.ledger = auditor.openLedger(pinned, auditor.heads, head.seq);
    if (pinned?.open && pinnedSeq > 0) {
      // A process died with its unit of work open and nothing beyond the checkpoint (e.g. after
      // "signing.started", before the signatures): close the pin, so that an entry added later is refused.
      auditor.noteStopped(pinnedSeq, undefined);
      await auditor.checkpoint(now);
    }
    return auditor;
  }

  get publicKeyHex(): string {
    return toHex(compressPublicKey(this.signer.publicKey));
  }

  /** What start-up found a process that stopped before its checkpoint left: the discard it recorded, the signing it was in. */
  get interruption(): StartupInterruption | undefined {
    return this.stopped && { ...this.stopped };
  }

  /** The head this process has verified (for reports: shown on every unlock and in every output). */
  get head(): AuditHead {
    return { ...this.knownHead };
  }

  /** Verified heads of the state tables (store/state.ts). */
  get stateHeads(): Readonly<StateHeads> {
    return this.heads;
  }

  /** The outpoint ledger's verified index (store/outpoint-ledger.ts). */
  get ledgerIndex(): LedgerIndex {
    return this.ledger;
  }

  /**
   * The one way state changes: marks the pin open, runs `work` in one database transaction where
   * each appended entry's state projection is applied with it, then signs and pins a checkpoint
   * that commits to the new state. An entry time before the log's last entry is refused
   * (CLOCK_BEHIND_LOG) and nothing is written.
   */
  async commit<T>(now: Date, work: (tx: AuditTx) => T, options: CommitOptions = {}): Promise<T> {
    this.assertTimeForward(now);
    await this.begin();
    const heads = { ...this.heads };
    const ledger = this.ledger.copy();
    let known = this.knownHead;
    const value = this.db.transaction(() => {
      const current = auditHead(this.db);
      if (current.seq !== known.seq || current.hash !== known.hash) {
        rollback('The audit log changed under this process (another writer?); nothing is signed.', {
          seq: current.seq,
        });
      }
      return work({
        db: this.db,
        append: (type, payload) => {
          const entry = insertEntry(this.db, known, type, payload, now);
          applyRows(this.db.sqlite, projectEntry(entry), heads, ledger);
          known = { seq: entry.seq, hash: entry.hash };
          return entry;
        },
      });
    });
    this.knownHead = known;
    this.heads = heads;
    this.ledger = ledger;
    this.openedAhead = undefined;
    if (options.checkpoint !== false) await this.checkpoint(now, { keepOpen: options.checkpoint === 'open' });
    return value;
  }

  /** One entry in its own unit of work, checkpointed. */
  async log(type: string, payload: unknown, now: Date): Promise<AuditEntry> {
    return this.commit(now, (tx) => tx.append(type, payload));
  }

  /**
   * Signs the current head and state with the audit key, stores the checkpoint and pins it in the
   * token: closed (entries beyond it are refused at start-up), or kept open when the unit of work
   * continues. Either way everything up to it is fixed: removing it is a rollback.
   */
  async checkpoint(now: Date, options: CheckpointOptions = {}): Promise<AuditCheckpoint> {
    const head = auditHead(this.db);
    if (head.seq !== this.knownHead.seq || head.hash !== this.knownHead.hash) {
      rollback('The audit log head is not the one this process wrote; no checkpoint is signed.', {
        seq: head.seq,
      });
    }
    const time = now.toISOString();
    const heads = { ...this.heads };
    const state = stateDigest(heads);
    const signature = await this.signer.sign(checkpointDigest(head.seq, head.hash, time, state));
    const checkpoint: AuditCheckpoint = {
      seq: head.seq,
      head: head.hash,
      time,
      signature: toHex(signature),
      state,
    };
    if (!verifyCheckpointSignature(checkpoint, this.signer.publicKey)) {
      throw makeError(
        'AUDIT_CHECKPOINT_INVALID',
        'The audit key’s checkpoint signature does not verify; nothing is signed.',
      );
    }
    this.db.sqlite
      .prepare(
        'INSERT OR REPLACE INTO audit_checkpoints (seq, head_hash, time, signature, state) VALUES (?, ?, ?, ?, ?)',
      )
      .run(checkpoint.seq, checkpoint.head, checkpoint.time, checkpoint.signature, JSON.stringify(heads));
    const pin: Pin = {
      ...checkpoint,
      open: options.keepOpen === true,
      gen: (this.pinned?.gen ?? 0) + 1,
      ledger: this.ledger.root(),
    };
    await this.pins.write(encodePin(pin));
    this.pinned = pin;
    return checkpoint;
  }

  /**
   * Before every signature: the database must hold the pinned checkpoint unchanged, its head must be
   * that checkpoint or an entry this process appended since (AUDIT_ROLLBACK otherwise), and the
   * state tables must still be the verified projection (AUDIT_TAMPERED otherwise).
   */
  async assertHeadMatchesToken(): Promise<AuditHead> {
    const pinned = await this.readPin();
    const head = auditHead(this.db);
    this.checkAgainstPin(pinned, head);
    const pinnedHead = pinned ? { seq: pinned.seq, hash: pinned.head } : { seq: 0, hash: AUDIT_GENESIS_HASH };
    const matchesPin = head.seq === pinnedHead.seq && head.hash === pinnedHead.hash;
    const matchesOwn = head.seq === this.knownHead.seq && head.hash === this.knownHead.hash;
    if (!matchesPin && !matchesOwn) {
      rollback(
        `The audit log head (entry ${head.seq}) does not match the checkpoint pinned in the HSM (entry ${pinnedHead.seq}); signing is refused.`,
        { seq: head.seq, pinnedSeq: pinnedHead.seq },
      );
    }
    if (matchesPin && !matchesOwn) {
      // Another coldsign process checkpointed since: its pin (signature checked) vouches for head and state.
      this.heads = this.pinnedHeads(pinned);
      this.ledger = this.openLedger(pinned, this.heads, head.seq);
      this.knownHead = head;
      this.pinned = pinned;
    }
    this.verifyState();
    return head;
  }

  /** Checks the state tables against the verified heads: small tables whole, the others at their head. */
  verifyState(): void {
    for (const table of STATE_TABLES) {
      if (SMALL_TABLES.includes(table))
        verifyWholeTable(this.db.sqlite, table, this.heads[table], this.knownHead.seq);
      else verifyTableHead(this.db.sqlite, table, this.heads[table], this.knownHead.seq);
    }
  }

  /**
   * Full verification (audit verify): the chain hashed once, the state each checkpoint commits to,
   * the newest checkpoint signature (or all), the state tables row by row, and the rollback check
   * against the token. Records when it last succeeded.
   */
  async verify(
    signatures: SignatureCheck = 'newest',
    now: Date = new Date(),
    options: Omit<FullVerifyOptions, 'tables'> = {},
  ): Promise<AuditVerification> {
    let result: AuditVerification;
    try {
      result = await verifyFullLog(this.db, this.signer.publicKey, signatures, iterateCheckpoints, {
        ...options,
        tables: true,
      });
    } catch (error) {
      // A damaged page stops the verification: the last outcome becomes a failure (hsm info must not keep showing
      // the previous success as the latest result), if the damaged database still takes the write.
      if (isStoreDamage(error)) {
        const failed: LastFullVerification = { time: now.toISOString(), ok: false, entries: 0 };
        try {
          setSetting(this.db, FULL_VERIFY_RESULT_SETTING, JSON.stringify(failed));
        } catch {}
      }
      throw error;
    }
    if (result.ok) {
      try {
        const pinned = await this.readPin();
        this.checkAgainstPin(pinned, result.head);
        // The ledger's index, when the pin is at the head it verified (entries beyond an open pin are not pinned).
        if (pinned?.ledger !== undefined && pinned.seq === result.head.seq)
          this.storedLedgerAsPinned(pinned.ledger, pinned.seq);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        result = {
          ...result,
          ok: false,
          firstBad: { seq: result.head.seq, reason: message.replace(/\.$/, '') },
        };
      }
    }
    // The outcome is kept (shown by `hsm info`, and unlock warns when the last success is too old).
    const last: LastFullVerification = {
      time: now.toISOString(),
      ok: result.ok,
      entries: result.entries,
      ...(result.firstBad ? { firstBad: result.firstBad } : {}),
    };
    try {
      setSetting(this.db, FULL_VERIFY_RESULT_SETTING, JSON.stringify(last));
      if (result.ok) setSetting(this.db, FULL_VERIFY_SETTING, last.time);
    } catch (error) {
      // Recording the outcome never hides it: a failed verification is reported even if nothing can be written.
      if (result.ok) throw error;
    }
    return result;
  }

  /**
   * The state entries in seq order, read a page at a time: the caller writes the state rows as it goes,
   * which a connection cannot do while a statement is still iterating. Read from the log itself, past the type
   * index: the entries were verified, the index was not, and an edit of its pages (below SQLite) could hide one.
   */
  private *stateEntries(): Generator<{ seq: number; time: string; type: string; payload: string }> {
    const placeholders = STATE_TYPES.map(() => '?').join(', ');
    const page = this.db.sqlite.prepare(
      `SELECT seq, time, type, payload FROM audit_log NOT INDEXED WHERE type IN (${placeholders}) AND seq > ? ORDER BY seq LIMIT ${STATE_ENTRY_PAGE}`,
    );
    for (let after = 0; ;) {
      const rows = page.all(...STATE_TYPES, after) as Array<{
        seq: number;
        time: string;
        type: string;
        payload: string;
      }>;
      yield* rows;
      if (rows.length < STATE_ENTRY_PAGE) return;
      after = rows[rows.length - 1]!.seq;
    }
  }

  private assertTimeForward(now: Date): void {
    const last = this.db.sqlite.prepare('SELECT time FROM audit_log ORDER BY seq DESC LIMIT 1').get() as
      { time: string } | undefined;
    if (last && now.toISOString() < last.time) {
      throw makeError(
        'CLOCK_BEHIND_LOG',
        `The clock (${now.toISOString()}) is before the last audit entry (${last.time}): set the clock right; nothing was recorded or signed.`,
        { last: last.time },
      );
    }
  }

  /**
   * Opens a batch of appends: marks the token's pin as open, so that entries found beyond the
   * checkpoint after a crash are discarded as unfinished work rather than refused as tampering
   * (AUDIT_TAMPERED is kept for entries beyond a closed pin). Idempotent until checkpoint().
   */
  private begin(): Promise<void> {
    if (this.pinned?.open) return Promise.resolve();
    // A failed write stays the answer: the commit that waits for it fails, and nothing is retried.
    this.beginning ??= this.openPin().then(() => {
      this.beginning = undefined;
    });
    return this.beginning;
  }

  /**
   * Starts the begin of a unit of work that is about to come (`sign`: while the request is read,
   * reviewed and decided), so that the HSM writes the pin while this process works; the commit
   * waits for it, so the pin is open before the first entry, as always. When the work ends without
   * a commit (malformed input), `withdrawBegin` closes the pin again.
   */
  beginAhead(): void {
    if (this.pinned?.open || this.beginning) return;
    this.openedAhead = { seq: this.knownHead.seq, hash: this.knownHead.hash };
    this.begin().catch(() => {});
  }

  /**
   * Closes the pin `beginAhead` opened when nothing was appended since: the same checkpoint as
   * before, closed (its signature covers it unchanged). Without this the next start-up would close it.
   * A begin that failed, or one followed by entries, is left as it is: start-up closes the first and
   * discards the entries of the second (no checkpoint covers them).
   */
  async withdrawBegin(): Promise<void> {
    const ahead = this.openedAhead;
    this.openedAhead = undefined;
    if (!ahead) return;
    try {
      await this.beginning;
    } catch {
      return;
    }
    const pinned = this.pinned;
    if (!pinned?.open || this.knownHead.seq !== ahead.seq || this.knownHead.hash !== ahead.hash) return;
    if (pinned.seq !== ahead.seq || pinned.head !== ahead.hash) return;
    const closed: Pin = { ...pinned, open: false, gen: pinned.gen + 1 };
    await this.pins.write(encodePin(closed));
    this.pinned = closed;
  }

  /** Marks the token's pin open (the begin's one HSM write). */
  private async openPin(): Promise<void> {
    const base: Pin = this.pinned ?? {
      seq: 0,
      head: AUDIT_GENESIS_HASH,
      time: '',
      signature: '',
      gen: 0,
      open: false,
    };
    const next = { ...base, open: true, gen: base.gen + 1 };
    await this.pins.write(encodePin(next));
    this.pinned = next;
  }

  /**
   * A log from before state digests, in one transaction: the tail beyond its open pin (if any, already
   * checked to chain from the pinned entry) deleted, the log up to the pin verified whole
   * (AUDIT_TAMPERED otherwise, and nothing is deleted), the state tables rebuilt from its entries,
   * and the discard recorded as in discardTail. The tail is never verified as part of the log: no
   * signed checkpoint covers it.
   */
  private rebuildFromLog(pinned: Pin, tail: DiscardDetail | undefined, now: Date): void {
    const heads = emptyHeads();
    const ledger = LedgerIndex.empty();
    const sqlite = this.db.sqlite;
    const known = this.db.transaction((): AuditHead => {
      if (tail) deleteEntriesAfter(sqlite, pinned.seq);
      const whole = verifyAudit(this.db, this.signer.publicKey, 'newest');
      if (!whole.ok) {
        const bad = whole.firstBad!;
        tampered(`The audit log does not verify: ${bad.reason}.`, bad.seq);
      }
      clearState(sqlite);
      for (const entry of this.stateEntries()) applyRows(sqlite, projectEntry(entry), heads, ledger);
      if (!tail) return whole.head;
      this.assertTimeForward(now);
      const entry = insertEntry(this.db, whole.head, 'audit.discarded', tail, now);
      applyRows(sqlite, projectEntry(entry), heads, ledger);
      return { seq: entry.seq, hash: entry.hash };
    });
    this.heads = heads;
    this.ledger = ledger;
    this.knownHead = known;
  }

  private bindKey(): void {
    const bound = auditPublicKeyOf(this.db);
    if (bound === undefined) {
      setSetting(this.db, AUDIT_KEY_SETTING, this.publicKeyHex);
    } else if (bound !== this.publicKeyHex) {
      throw makeError(
        'HOME_MISMATCH',
        'This database and this HSM token belong to different coldsign homes (the token’s audit key is not the one this database was created with): use the home whose token this is, or restore database and token from the same backup.',
      );
    }
  }

  private async readPin(): Promise<Pin | undefined> {
    const found = (await this.pins.read()).map(parsePin);
    if (found.length === 0) return undefined;
    const pinned = found.reduce((a, b) => (b.gen > a.gen ? b : a));
    const empty = pinned.seq === 0 && pinned.head === AUDIT_GENESIS_HASH && pinned.signature === '';
    if (!empty && !verifyCheckpointSignature(pinned, this.signer.publicKey)) {
      throw makeError(
        'AUDIT_CHECKPOINT_INVALID',
        'The audit checkpoint pinned in the HSM token has no valid signature.',
      );
    }
    if (empty && pinned.state !== undefined) {
      throw makeError(
        'AUDIT_CHECKPOINT_INVALID',
        'The audit checkpoint pinned in the HSM token is unsigned.',
      );
    }
    return pinned;
  }

  /**
   * The outpoint ledger's index at the pin: the stored bucket links, whose root must be the pin's (AUDIT_TAMPERED
   * otherwise). A pin written before the index holds no root: the index is then built from the whole table,
   * checked against its verified head, and the next checkpoint pins its root.
   */
  private openLedger(pinned: Pin | undefined, heads: StateHeads, uptoSeq: number): LedgerIndex {
    const sqlite = this.db.sqlite;
    if (pinned?.ledger === undefined) return LedgerIndex.fromTable(sqlite, heads.outpoints, uptoSeq);
    return this.storedLedgerAsPinned(pinned.ledger, pinned.seq);
  }

  /** The stored index, whose root must be `root` (the pin's at entry `seq`): AUDIT_TAMPERED otherwise. */
  private storedLedgerAsPinned(root: string, seq: number): LedgerIndex {
    const stored = LedgerIndex.stored(this.db.sqlite);
    if (stored.root() !== root) {
      tampered(
        'The outpoints table’s index does not match the one the HSM pin commits to (a row or a bucket link was edited, inserted or deleted); nothing is signed.',
        seq,
      );
    }
    return stored;
  }

  /** The state heads the pinned checkpoint commits to: kept with its row, checked against the signed digest. */
  private pinnedHeads(pinned: Pin | undefined): StateHeads {
    if (!pinned || pinned.seq === 0) return emptyHeads();
    const row = this.db.sqlite
      .prepare('SELECT state FROM audit_checkpoints WHERE seq = ?')
      .get(pinned.seq) as { state: string | null } | undefined;
    const heads = parseHeads(row?.state);
    if (!heads || stateDigest(heads) !== pinned.state) {
      tampered(
        `The state heads of the checkpoint at entry ${pinned.seq} are not the ones the HSM pin commits to; nothing is signed.`,
        pinned.seq,
      );
    }
    return heads;
  }

  /** The pinned entry must exist unchanged: its stored hash is the pinned head and matches its content. */
  private checkAgainstPin(pinned: Pin | undefined, head: AuditHead): void {
    if (!pinned) {
      if (head.seq > 0) {
        rollback(
          `The HSM token holds no audit checkpoint but the database has ${head.seq} entries: token or database was replaced.`,
        );
      }
      return;
    }
    if (head.seq < pinned.seq) {
      rollback(
        `The database ends at audit entry ${head.seq} but the HSM pinned entry ${pinned.seq}: an older copy of the database was restored.`,
        { seq: head.seq, pinnedSeq: pinned.seq },
      );
    }
    if (pinned.seq === 0) return;
    const entry = entryAt(this.db, pinned.seq);
    const intact =
      entry !== undefined &&
      entry.hash === pinned.head &&
      entryHash(entry.seq, entry.time, entry.type, entry.payload, entry.prev) === entry.hash;
    if (!intact) {
      rollback(
        `Audit entry ${pinned.seq} differs from the checkpoint pinned in the HSM: the database was replaced or edited.`,
        { seq: pinned.seq },
      );
    }
  }

  /**
   * Notes what a start-up that found the pin open did (said at unlock): the discard it just recorded (`tail`, the
   * newest entry now), and the signing announced at the pinned entry when it is a "signing.started" (verified).
   */
  private noteStopped(pinnedSeq: number, tail: DiscardDetail | undefined): void {
    const entry = entryAt(this.db, pinnedSeq);
    let signing: StartupInterruption['signing'];
    if (entry?.type === 'signing.started') {
      let requestIds: string[] = [];
      try {
        requestIds = signingRequestIds(JSON.parse(entry.payload));
      } catch {}
      signing = { seq: pinnedSeq, requestIds };
    }
    const stopped: StartupInterruption = {
      ...(tail ? { discard: { seq: this.knownHead.seq, detail: tail } } : {}),
      ...(signing ? { signing } : {}),
    };
    this.stopped = stopped.discard || stopped.signing ? stopped : undefined;
  }

  /**
   * Verifies that the entries after `fromSeq` chain from it (hash links and contents), one at a time;
   * returns what a discard records of them. A tail that does not chain is not a crash: AUDIT_TAMPERED.
   */
  private verifyTail(fromSeq: number): DiscardDetail {
    let prev = fromSeq === 0 ? AUDIT_GENESIS_HASH : (entryAt(this.db, fromSeq)?.hash ?? AUDIT_GENESIS_HASH);
    let expected = fromSeq + 1;
    const record = new TailRecord();
    for (const { seq, time, type, payload, prev: prevHash, hash } of iterateAudit(this.db, fromSeq)) {
      if (seq !== expected || prevHash !== prev || entryHash(seq, time, type, payload, prevHash) !== hash) {
        tampered(`Audit entry ${expected} after the pinned checkpoint does not verify.`, expected);
      }
      record.add(type, payload);
      prev = hash;
      expected += 1;
    }
    return record.payload(fromSeq, expected - 1, prev);
  }

  /**
   * Drops the tail a process left beyond the open pin, in one transaction: its entries, their state
   * rows and any checkpoint row beyond the pin (signed but never pinned: a crash inside checkpoint());
   * then the state tables must be exactly the pinned heads (AUDIT_TAMPERED otherwise, and nothing is
   * deleted), and one "audit.discarded" entry records the range, the hash of its last entry, how
   * many entries of each type were dropped and the request ids its signing entries named, with the
   * detail of any earlier "audit.discarded" entry in the tail (a start-up killed before the
   * checkpoint over its discard: store/audit-discards.ts). The caller checkpoints it, which closes the pin. Rows of
   * the record tables (requests, decisions, signatures) are left: nothing reads them to decide.
   */
  private discardTail(pinned: Pin, pinnedHeads: StateHeads, tail: DiscardDetail, now: Date): void {
    const pinnedSeq = pinned.seq;
    // checkAgainstPin has found the pinned entry with this hash (the genesis hash for an empty pin).
    let known: AuditHead = { seq: pinnedSeq, hash: pinned.head };
    const { heads, ledger } = this.db.transaction(() => {
      const sqlite = this.db.sqlite;
      const touched = bucketsAfter(sqlite, pinnedSeq);
      deleteEntriesAfter(sqlite, pinnedSeq);
      deleteStateAfter(sqlite, pinnedSeq);
      LedgerIndex.restoreBuckets(sqlite, touched);
      const checked = this.checkState(pinnedHeads, pinnedSeq, [], pinnedSeq);
      const index = this.openLedger(pinned, checked, pinnedSeq);
      this.assertTimeForward(now);
      const entry = insertEntry(this.db, known, 'audit.discarded', tail, now);
      applyRows(sqlite, projectEntry(entry), checked, index);
      known = { seq: entry.seq, hash: entry.hash };
      return { heads: checked, ledger: index };
    });
    this.knownHead = known;
    this.heads = heads;
    this.ledger = ledger;
  }

  /**
   * The state tables against the pinned heads: rows up to the pin must end at the pinned heads
   * (small tables walked whole, the others checked at their newest row), and the rows after it
   * must be exactly the projections of the verified tail. Returns the heads at `headSeq`.
   */
  private checkState(
    pinnedHeads: StateHeads,
    pinnedSeq: number,
    tail: AuditEntry[],
    headSeq: number,
  ): StateHeads {
    const sqlite = this.db.sqlite;
    const expected = new Map<StateTable, StateRow[]>(STATE_TABLES.map((t) => [t, []]));
    for (const entry of tail) for (const row of projectEntry(entry)) expected.get(row.table)!.push(row);
    const heads = emptyHeads();
    for (const table of STATE_TABLES) {
      if (headAt(sqlite, table, pinnedSeq) !== pinnedHeads[table]) {
        tampered(
          `The ${table} table does not match the state the pinned checkpoint commits to; nothing is signed.`,
          pinnedSeq,
        );
      }
      const want = expected.get(table)!;
      const found = rowsAfter(sqlite, table, pinnedSeq);
      let link = pinnedHeads[table];
      if (found.length !== want.length) {
        tampered(
          `The ${table} table has rows that no audit entry after the checkpoint accounts for.`,
          pinnedSeq + 1,
        );
      }
      want.forEach((row, i) => {
        link = nextLink(link, row);
        if (found[i]!.link !== link)
          tampered(`A row of the ${table} table does not match audit entry ${row.seq}.`, row.seq);
      });
      heads[table] = link;
      if (SMALL_TABLES.includes(table)) verifyWholeTable(sqlite, table, link, headSeq);
      else verifyTableHead(sqlite, table, link, headSeq);
    }
    return heads;
  }
}
