/**
 * Joins the results of the ranges of a full verification (store/audit-verify-range.ts), in seq
 * order, into one verdict with the same first bad entry and reason the one-pass verifier gives:
 * each range's first entry must follow the previous range's last (seq and hash link), the state
 * tables' heads are carried across ranges, every checkpoint's head and state digest is checked at
 * its entry (its signature: the newest only, or all), stored rows left over at the end of a range
 * are found at the next row the log projects into that table, and the signing events are replayed
 * in order for the unfinished signings.
 */
import {
  AUDIT_GENESIS_HASH,
  SigningTracker,
  verifyCheckpointSignature,
  type AuditCheckpoint,
  type AuditVerification,
  type SignatureCheck,
} from './audit-chain.js';
import { GENESIS_LINK, STATE_TABLES, stateDigest, type StateHeads } from './state.js';
import type { RangeBad, RangeResult, SigningEvent, SigningEvents } from './audit-verify-range.js';
import { fingerprintsMayHold, requestIdSetHas } from './request-id-set.js';

type Bad = { seq: number; reason: string };

export interface StitchOptions {
  publicKey: Uint8Array;
  signatures: SignatureCheck;
  /** Seq of the newest checkpoint (its signature is always checked), or null when there is none. */
  newest: number | null;
  checkpointCount: number;
  /** The stored state tables are compared (ranges report leftovers and read their start links). */
  tables: boolean;
  /** The signing events of entries (from, through], in order (a verdict that stops inside a range replays them). */
  signingEvents: (from: number, through: number) => SigningEvent[];
}

export class RangeStitcher {
  private expected = 1;
  private prev = AUDIT_GENESIS_HASH;
  private headHash = AUDIT_GENESIS_HASH;
  private headSeq = 0;
  private readonly replayed: string[] = STATE_TABLES.map(() => GENESIS_LINK);
  /** Per table: seq of the first stored row no projected row took (rows added), or null. */
  private readonly leftover: Array<number | null> = STATE_TABLES.map(() => null);
  private readonly signing = new SigningTracker();
  private covered = -1;
  private bad: Bad | undefined;
  /** Seqs of the listed entries (LISTED_TYPES) of the ranges stitched. */
  private readonly listed: number[] = [];
  private next: IteratorResult<AuditCheckpoint>;

  constructor(
    private readonly checkpoints: Iterator<AuditCheckpoint>,
    private readonly options: StitchOptions,
  ) {
    this.next = checkpoints.next();
    this.atEntry(0, AUDIT_GENESIS_HASH, this.replayed);
  }

  /**
   * Ends the checkpoint stream (its SQLite statement). finish() does it; a verification that stops on a thrown error
   * (a damaged database page) must too, or the connection stays busy and its COMMIT and close fail in place of the
   * error that stopped it.
   */
  release(): void {
    this.checkpoints.return?.(undefined);
  }

  /** True once the first bad entry is known: later ranges are not needed. */
  get failed(): boolean {
    return this.bad !== undefined;
  }

  /** The replayed heads of the state tables after the ranges added so far (STATE_TABLES order). */
  get heads(): string[] {
    return [...this.replayed];
  }

  /** Adds the next range's result (ranges in seq order, none skipped). */
  add(range: RangeResult): void {
    if (this.bad) return;
    if (!range.first) {
      this.keepLeftovers(range);
      return;
    }
    if (range.first.seq !== this.expected) {
      const reason =
        range.first.seq > this.expected
          ? `entry ${this.expected} is missing (the next entry found is ${range.first.seq}): entries were deleted`
          : `entry ${range.first.seq} appears out of order after entry ${this.expected - 1}: entries were reordered or duplicated`;
      return this.fail({ seq: this.expected, reason });
    }
    if (range.first.prev !== this.prev) {
      return this.fail({
        seq: range.first.seq,
        reason: `entry ${range.first.seq} does not link to the hash of entry ${this.expected - 1}: an entry was inserted, deleted or reordered`,
      });
    }
    if (this.options.tables) {
      for (let t = 0; t < STATE_TABLES.length; t += 1) {
        // A range that starts from the stored row before it must start where the previous range ended.
        if (this.leftover[t] === null && range.startLinks[t] !== this.replayed[t]) {
          return this.fail({
            seq: range.first.seq,
            reason: `the ${STATE_TABLES[t]} table changed while the log was being verified (read at entry ${range.first.seq})`,
          });
        }
      }
    }
    for (const seq of range.listed ?? []) this.listed.push(seq);
    let stop: (RangeBad & { hash?: string }) | undefined = range.bad;
    for (let t = 0; t < STATE_TABLES.length; t += 1) {
      const at = range.firstProjected[t];
      const seq = this.leftover[t];
      if (at === null || at === undefined || seq === null || seq === undefined) continue;
      // The row left over is compared with the next row the log projects into its table.
      if (!stop || at <= stop.at)
        stop = {
          at,
          through: at,
          seq,
          hash: range.firstProjectedHash[t]!,
          reason: `the ${STATE_TABLES[t]} table does not match the audit log at entry ${seq}: a row was edited, inserted or deleted`,
        };
    }
    for (const checkpoint of range.checkpoints) {
      if (stop && checkpoint.seq >= stop.at) break;
      const heads = this.replayed.map((link, t) => checkpoint.heads[t] ?? link);
      if (!this.atEntry(checkpoint.seq, checkpoint.hash, heads)) {
        this.applySigning(range, checkpoint.seq);
        this.headSeq = checkpoint.seq;
        this.headHash = checkpoint.hash;
        return;
      }
    }
    if (stop) {
      this.applySigning(range, stop.through);
      this.headSeq = stop.through;
      this.headHash = stop.hash ?? (stop.through === range.last?.seq ? range.last.hash : this.headHash);
      return this.fail(stop);
    }
    this.applySigning(range, Infinity);
    range.endLinks.forEach((link, t) => {
      if (link !== null) this.replayed[t] = link;
    });
    this.keepLeftovers(range);
    this.expected = range.last!.seq + 1;
    this.prev = range.last!.hash;
    this.headSeq = range.last!.seq;
    this.headHash = range.last!.hash;
  }

  /** Fails the verification for a reason outside the data (a worker that failed, a database error). */
  abort(seq: number, reason: string): void {
    if (!this.bad) this.bad = { seq, reason };
  }

  /** The first entry the next range must start with. */
  get nextSeq(): number {
    return this.expected;
  }

  finish(): AuditVerification {
    if (!this.bad && !this.next.done) {
      this.bad = {
        seq: this.headSeq + 1,
        reason: `a signed checkpoint covers entry ${this.next.value.seq} but the log ends at entry ${this.headSeq}: entries were removed from the end`,
      };
    }
    if (!this.bad && this.covered < this.headSeq) {
      this.bad = {
        seq: this.covered + 1,
        reason: `entries ${this.covered + 1} to ${this.headSeq} are not covered by a signed checkpoint`,
      };
    }
    if (!this.bad && this.options.tables) {
      const t = this.leftover.findIndex((seq) => seq !== null);
      if (t >= 0) {
        const seq = this.leftover[t]!;
        this.bad = {
          seq,
          reason: `the ${STATE_TABLES[t]} table does not match the audit log at entry ${seq}: a row names no audit entry (rows were added)`,
        };
      }
    }
    this.release();
    const unfinished = this.signing.unfinished();
    return {
      ok: this.bad === undefined,
      entries: this.headSeq,
      checkpoints: this.options.checkpointCount,
      head: { seq: this.headSeq, hash: this.headSeq === 0 ? AUDIT_GENESIS_HASH : this.headHash },
      ...(this.bad ? { firstBad: this.bad } : {}),
      ...(unfinished.length > 0 ? { unfinishedSignings: unfinished } : {}),
      listed: this.listed,
    };
  }

  /**
   * Applies a range's signing events: all of them (`through` = Infinity: the ids it closed, then
   * those it leaves open, which is what replaying each event gives), or only those of entries up to
   * `through` (replayed one by one). An id left open by earlier ranges that this range may have
   * started again and closed (a fingerprint match) is settled by the replay too.
   */
  private applySigning(range: RangeResult, through: number): void {
    const events: SigningEvents = range.signing;
    if (through === Infinity) {
      const open = this.signing.openIds();
      if (!open.some((id) => fingerprintsMayHold(events.restarted, id))) {
        this.signing.record(
          false,
          0,
          open.filter((id) => requestIdSetHas(events.closedBefore, id)),
        );
        for (const [id, seq] of events.opens) this.signing.record(true, seq, [id]);
        return;
      }
    }
    for (const [started, seq, ids] of this.options.signingEvents(range.from, Math.min(through, range.to)))
      this.signing.record(started, seq, ids);
  }

  private keepLeftovers(range: RangeResult): void {
    range.leftover.forEach((seq, t) => {
      if (seq !== null && this.leftover[t] === null) this.leftover[t] = seq;
    });
  }

  private fail(bad: Bad): void {
    this.bad = { seq: bad.seq, reason: bad.reason };
  }

  /** Checks the checkpoints at entry `seq` (hash `hash`, state heads `heads`); false when one is bad. */
  private atEntry(seq: number, hash: string, heads: readonly string[]): boolean {
    while (!this.next.done && this.next.value.seq === seq) {
      const checkpoint = this.next.value;
      const { signatures, newest, publicKey } = this.options;
      const checkSignature = signatures === 'all' || checkpoint.seq === newest;
      if (checkSignature && !verifyCheckpointSignature(checkpoint, publicKey)) {
        this.fail({
          seq,
          reason: `the checkpoint at entry ${seq} has no valid audit-key signature`,
        });
      } else if (checkpoint.head !== hash) {
        this.fail({ seq, reason: `entry ${seq} differs from the one its signed checkpoint covers` });
      } else if (checkpoint.state !== undefined && checkpoint.state !== digestOf(heads)) {
        this.fail({
          seq,
          reason: `the state digest of the checkpoint at entry ${seq} is not the state the log's entries project`,
        });
      }
      this.covered = seq;
      if (this.bad) return false;
      this.next = this.checkpoints.next();
    }
    return true;
  }
}

function digestOf(heads: readonly string[]): string {
  return stateDigest(Object.fromEntries(STATE_TABLES.map((t, i) => [t, heads[i]])) as StateHeads);
}
