/**
 * The append-only audit log in the database, its HSM-signed checkpoints and the anti-rollback pin.
 * The latest checkpoint is written both to the database and, as a private data object, into the
 * HSM token; the database head must descend from the pinned checkpoint, or nothing is signed.
 */
import { makeError } from '../core/errors.js';
import { fromHex, toHex, utf8 } from '../core/bytes.js';
import { compressPublicKey } from '../core/signature.js';
import {
  AUDIT_GENESIS_HASH,
  ChainVerifier,
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
import { getSetting, setSetting } from './settings.js';

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
 * Appends one entry (in its own transaction, or in the caller's). The payload is stored in its
 * RFC 8785 canonical form; fields that could hold a secret are refused.
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

export function readCheckpoints(db: ColdsignDb): AuditCheckpoint[] {
  return db.sqlite
    .prepare('SELECT seq, head_hash AS head, time, signature FROM audit_checkpoints ORDER BY seq')
    .all() as AuditCheckpoint[];
}

/** Every entry in sequence order (for export). */
export function* iterateAudit(db: ColdsignDb): Generator<AuditEntry> {
  const rows = db.sqlite
    .prepare('SELECT seq, time, type, payload, prev_hash, hash FROM audit_log ORDER BY seq')
    .raw();
  for (const [seq, time, type, payload, prev, hash] of rows.iterate() as IterableIterator<EntryRow>) {
    yield { seq, time, type, payload, prev, hash };
  }
}

/**
 * Verifies the whole chain and every checkpoint (all signatures by default, see SignatureCheck);
 * names the first bad entry.
 */
export function verifyAudit(
  db: ColdsignDb,
  auditPublicKey: Uint8Array | string,
  signatures: SignatureCheck = 'all',
): AuditVerification {
  const publicKey = typeof auditPublicKey === 'string' ? fromHex(auditPublicKey) : auditPublicKey;
  const checkpoints = readCheckpoints(db);
  const verifier = new ChainVerifier(new Set(checkpoints.map((c) => c.seq)));
  for (const entry of iterateAudit(db)) if (!verifier.add(entry)) break;
  return verifier.finish(checkpoints, publicKey, signatures);
}

/** The audit public key this database is bound to (compressed hex), if any. */
export function auditPublicKeyOf(db: ColdsignDb): string | undefined {
  return getSetting(db, AUDIT_KEY_SETTING);
}

/** The token's pin: the latest checkpoint, and whether entries may have been appended after it. */
interface Pin extends AuditCheckpoint {
  /** True from begin() to checkpoint(): entries beyond the checkpoint are expected (crash recovery). */
  open: boolean;
  /** Write counter: the highest generation wins when a crashed write left two pins. */
  gen: number;
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
      return {
        seq: value.seq,
        head: value.head,
        time: value.time,
        signature: value.signature,
        open: value.open === true,
        gen,
      };
    }
  } catch {}
  throw makeError('AUDIT_CHECKPOINT_INVALID', 'The audit checkpoint pinned in the HSM token is unreadable.');
}

function encodePin(pin: Pin): Uint8Array {
  return utf8(JSON.stringify(pin));
}

function rollback(message: string, info: Record<string, number> = {}): never {
  throw makeError('AUDIT_ROLLBACK', message, info);
}

export interface AuditorOptions {
  /** Re-hash the whole chain at start-up (default true): catches edits anywhere, not only at the head. */
  verifyAll?: boolean;
}

/** Hash links and contents of every entry (no checkpoints): the first bad entry, or undefined. */
function verifyChainOnly(db: ColdsignDb): { seq: number; reason: string } | undefined {
  const verifier = new ChainVerifier(new Set());
  for (const entry of iterateAudit(db)) if (!verifier.add(entry)) break;
  return verifier.firstBad;
}

export class Auditor {
  /** The head this process knows to be genuine: the pinned checkpoint or an entry it appended since. */
  private knownHead: AuditHead = { seq: 0, hash: AUDIT_GENESIS_HASH };
  /** The pin as this process last read or wrote it. */
  private pinned: Pin | undefined;

  private constructor(
    readonly db: ColdsignDb,
    private readonly signer: CheckpointSigner,
    private readonly pins: PinStore,
  ) {}

  /**
   * Start-up: binds the database to the audit key, checks the database against the checkpoint
   * pinned in the token (AUDIT_ROLLBACK when it is older or different) and, after a crash that
   * left verified entries beyond the pin, records the recovery and checkpoints them.
   */
  static async open(
    db: ColdsignDb,
    ports: AuditPorts,
    now: Date,
    options: AuditorOptions = {},
  ): Promise<Auditor> {
    const auditor = new Auditor(db, ports.signer, ports.pins);
    auditor.bindKey();
    if (options.verifyAll !== false) {
      const whole = verifyChainOnly(db);
      if (whole)
        throw makeError('AUDIT_TAMPERED', `The audit log does not verify: ${whole.reason}.`, {
          seq: whole.seq,
        });
    }
    const pinned = await auditor.readPin();
    const head = auditHead(db);
    auditor.checkAgainstPin(pinned, head);
    auditor.knownHead = head;
    auditor.pinned = pinned;
    if (pinned && head.seq > pinned.seq) {
      if (!pinned.open) {
        throw makeError(
          'AUDIT_TAMPERED',
          `Audit entries ${pinned.seq + 1} to ${head.seq} were added to the database outside coldsign (the HSM checkpoint was closed).`,
          { seq: pinned.seq + 1 },
        );
      }
      auditor.verifyTail(pinned.seq);
      auditor.append(
        'audit.recovered',
        { pinnedSeq: pinned.seq, unpinnedFrom: pinned.seq + 1, unpinnedTo: head.seq },
        now,
      );
      await auditor.checkpoint(now);
    }
    return auditor;
  }

  get publicKeyHex(): string {
    return toHex(compressPublicKey(this.signer.publicKey));
  }

  /**
   * Opens a batch of appends: marks the token's pin as open, so that entries found beyond the
   * checkpoint after a crash are recovered rather than refused. Idempotent until checkpoint().
   */
  async begin(): Promise<void> {
    if (this.pinned?.open) return;
    const base = this.pinned ?? { seq: 0, head: AUDIT_GENESIS_HASH, time: '', signature: '', gen: 0 };
    const next = { ...base, open: true, gen: base.gen + 1 };
    await this.pins.write(encodePin(next));
    this.pinned = next;
  }

  /** begin() then append(): the simple way to log one entry. */
  async log(type: string, payload: unknown, now: Date): Promise<AuditEntry> {
    await this.begin();
    return this.append(type, payload, now);
  }

  /**
   * Appends an entry (synchronously, so it can share a transaction with the records it audits).
   * begin() must have been awaited since the last checkpoint.
   */
  append(type: string, payload: unknown, now: Date): AuditEntry {
    if (!this.pinned?.open)
      throw makeError('INTERNAL', 'Auditor.begin() must be awaited before appending audit entries.');
    return this.db.transaction(() => {
      const head = auditHead(this.db);
      if (head.seq !== this.knownHead.seq || head.hash !== this.knownHead.hash) {
        rollback('The audit log changed under this process (another writer?); nothing is signed.', {
          seq: head.seq,
        });
      }
      const entry = appendAudit(this.db, type, payload, now);
      this.knownHead = { seq: entry.seq, hash: entry.hash };
      return entry;
    });
  }

  /** Signs the current head with the audit key, stores the checkpoint and pins it in the token. */
  async checkpoint(now: Date): Promise<AuditCheckpoint> {
    const head = auditHead(this.db);
    if (head.seq !== this.knownHead.seq || head.hash !== this.knownHead.hash) {
      rollback('The audit log head is not the one this process wrote; no checkpoint is signed.', {
        seq: head.seq,
      });
    }
    const time = now.toISOString();
    const signature = await this.signer.sign(checkpointDigest(head.seq, head.hash, time));
    const checkpoint: AuditCheckpoint = { seq: head.seq, head: head.hash, time, signature: toHex(signature) };
    if (!verifyCheckpointSignature(checkpoint, this.signer.publicKey)) {
      throw makeError(
        'AUDIT_CHECKPOINT_INVALID',
        'The audit key’s checkpoint signature does not verify; nothing is signed.',
      );
    }
    this.db.sqlite
      .prepare(
        'INSERT OR REPLACE INTO audit_checkpoints (seq, head_hash, time, signature) VALUES (?, ?, ?, ?)',
      )
      .run(checkpoint.seq, checkpoint.head, checkpoint.time, checkpoint.signature);
    const pin: Pin = { ...checkpoint, open: false, gen: (this.pinned?.gen ?? 0) + 1 };
    await this.pins.write(encodePin(pin));
    this.pinned = pin;
    return checkpoint;
  }

  /**
   * Before every signature: the database must hold the pinned checkpoint unchanged and its head
   * must be that checkpoint or an entry this process appended since (AUDIT_ROLLBACK otherwise).
   */
  async assertHeadMatchesToken(): Promise<AuditHead> {
    const pinned = await this.readPin();
    const head = auditHead(this.db);
    this.checkAgainstPin(pinned, head);
    const pinnedHead = pinned ? { seq: pinned.seq, hash: pinned.head } : { seq: 0, hash: AUDIT_GENESIS_HASH };
    const matchesPin = head.seq === pinnedHead.seq && head.hash === pinnedHead.hash;
    const matchesOwn = head.seq === this.knownHead.seq && head.hash === this.knownHead.hash;
    if (matchesPin) this.knownHead = head;
    if (!matchesPin && !matchesOwn) {
      rollback(
        `The audit log head (entry ${head.seq}) does not match the checkpoint pinned in the HSM (entry ${pinnedHead.seq}); signing is refused.`,
        { seq: head.seq, pinnedSeq: pinnedHead.seq },
      );
    }
    return head;
  }

  /** Full verification with this auditor's key plus the rollback check against the token. */
  async verify(): Promise<AuditVerification> {
    const result = verifyAudit(this.db, this.signer.publicKey);
    if (!result.ok) return result;
    try {
      this.checkAgainstPin(await this.readPin(), result.head);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { ...result, ok: false, firstBad: { seq: result.head.seq, reason: message } };
    }
    return result;
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
    return pinned;
  }

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
    const entry = entryAt(this.db, pinned.seq);
    if (pinned.seq > 0 && entry?.hash !== pinned.head) {
      rollback(
        `Audit entry ${pinned.seq} differs from the checkpoint pinned in the HSM: the database was replaced or edited.`,
        {
          seq: pinned.seq,
        },
      );
    }
  }

  private verifyTail(fromSeq: number): void {
    const rows = this.db.sqlite
      .prepare('SELECT seq, time, type, payload, prev_hash, hash FROM audit_log WHERE seq > ? ORDER BY seq')
      .raw()
      .iterate(fromSeq) as IterableIterator<EntryRow>;
    let prev = entryAt(this.db, fromSeq)?.hash ?? AUDIT_GENESIS_HASH;
    let expected = fromSeq + 1;
    for (const [seq, time, type, payload, prevHash, hash] of rows) {
      if (seq !== expected || prevHash !== prev || entryHash(seq, time, type, payload, prevHash) !== hash) {
        throw makeError(
          'AUDIT_TAMPERED',
          `Audit entry ${expected} after the pinned checkpoint does not verify.`,
          { seq: expected },
        );
      }
      prev = hash;
      expected += 1;
    }
    this.knownHead = { seq: expected - 1, hash: prev };
  }
}
