/**
 * The outpoint ledger: which Bitcoin outpoints our keys signed, under which claimed amount and scriptPubKey
 * (the `outpoints` state table, projected from the signing entries by store/state.ts). The table is one hash
 * chain like every state table; besides, each row falls in one of OUTPOINT_BUCKETS buckets by its outpoint, and
 * each bucket's rows form a chain of their own whose newest link the index keeps. The token's pin holds the
 * index's root (SHA-256 of every bucket link) beside the signed checkpoint, so a decision proves what was, and
 * what was not, signed for an outpoint by walking that outpoint's bucket alone: a row deleted, added or edited
 * in it changes the bucket's link, and a stored link changed to match changes the root.
 */
import { hash as oneShotHash } from 'node:crypto';
import { makeError } from '../core/errors.js';
import type { OutpointClaim, SignedOutpoint } from '../policy/outpoint-conflicts.js';
import type { Sqlite } from './database.js';
import {
  GENESIS_LINK,
  STATE_COLUMNS,
  linkOfText,
  nextLink,
  preparedOnce,
  readWholeTable,
  rowText,
  storedRowText,
  type RowValue,
  type StateRow,
} from './state.js';

/** Buckets of the index: a decision walks about (rows ÷ 4096) rows per outpoint it checks. */
export const OUTPOINT_BUCKETS = 4096;
const ROOT_DOMAIN = 'coldsign-outpoint-ledger/1';

/** The members of a signing entry's `outpoints` (one per input and key signed). */
export function outpointPayload(claims: readonly OutpointClaim[]): OutpointClaim[] {
  return claims.map((c) => ({
    outpoint: c.outpoint,
    sats: c.sats,
    script: c.script,
    keyLabel: c.keyLabel,
    sighashType: c.sighashType,
  }));
}

/** The bucket of an outpoint ("txid:vout"): the first two bytes of its SHA-256, big-endian, modulo 4096. */
export function outpointBucket(outpoint: string): number {
  const digest = oneShotHash('sha256', outpoint, 'buffer');
  return ((digest[0]! << 8) | digest[1]!) % OUTPOINT_BUCKETS;
}

function bucketOfRow(row: StateRow): number {
  const outpoint = row.values.outpoint;
  return outpointBucket(typeof outpoint === 'string' ? outpoint : '');
}

const UPSERT_LINK =
  'INSERT INTO outpoint_buckets (bucket, link) VALUES (?, ?) ON CONFLICT (bucket) DO UPDATE SET link = excluded.link';

/** Writes one stored bucket link. */
function storeLink(sqlite: Sqlite, bucket: number, link: string): void {
  preparedOnce(sqlite, UPSERT_LINK).run(bucket, link);
}

function ledgerTampered(message: string, seq: number): never {
  throw makeError('AUDIT_TAMPERED', `The outpoints table ${message}. Nothing is signed.`, {
    seq,
    table: 'outpoints',
  });
}

/** A row of a bucket as a decision reads it: its outpoint, and its text (rowText's bytes), parsed only when wanted. */
interface BucketRow {
  seq: number;
  pos: number;
  outpoint: unknown;
  text: string;
}

/** What a decision kept of a bucket it walked (LedgerIndex.walked). */
interface Walk {
  link: string;
  newest: number;
  looked: ReadonlySet<string>;
  rows: BucketRow[];
}

/**
 * Every row of the buckets listed in a JSON array, in (bucket, seq, pos) order, each with its text as json_array
 * writes it: one query for a whole request instead of one per bucket, and no row rebuilt to be hashed.
 */
export const BUCKET_ROWS = `SELECT bucket, seq, pos, outpoint, ${storedRowText('outpoints')} FROM outpoints
  WHERE bucket IN (SELECT value FROM json_each(?)) ORDER BY bucket, seq, pos`;

/** SQLite's json_array refusing a BLOB, which only a table rebuilt without STRICT holds. */
function refusedBlob(error: unknown): boolean {
  return error instanceof Error && /BLOB/.test(error.message);
}

/** The rows of `buckets`, per bucket. */
function rowsOfBuckets(sqlite: Sqlite, buckets: readonly number[]): Map<number, BucketRow[]> {
  let raws: Array<[number, number, number, unknown, string]>;
  try {
    raws = preparedOnce(sqlite, BUCKET_ROWS, true).all(JSON.stringify(buckets)) as typeof raws;
  } catch (error) {
    if (refusedBlob(error))
      ledgerTampered('holds a value no ledger row can have (the table was rebuilt without its types)', 0);
    throw error;
  }
  const byBucket = new Map<number, BucketRow[]>(buckets.map((b) => [b, []]));
  for (const [bucket, seq, pos, outpoint, text] of raws)
    byBucket.get(bucket)?.push({ seq, pos, outpoint, text });
  return byBucket;
}

/** The link a bucket's rows chain to, in order from GENESIS_LINK (what its stored link must be). */
function chainOf(rows: readonly BucketRow[]): string {
  return rows.reduce((link, row) => linkOfText(link, row.text), GENESIS_LINK);
}

/** A bucket's rows read from the table itself, past every index (a whole-table scan: for an error's wording only). */
const TABLE_ROWS_OF_BUCKET = `SELECT ${storedRowText('outpoints')} FROM outpoints NOT INDEXED
  WHERE bucket = ? ORDER BY seq, pos`;

/**
 * Why a bucket's rows, as the covering index gave them, do not chain to `link`: when the table's own rows of that
 * bucket do, only the index's pages were edited (below SQL: a statement changes table and index alike), and
 * `audit verify`, which reads the table, finds the log and the rows intact.
 */
function bucketMismatch(sqlite: Sqlite, bucket: number, link: string, last: number): string {
  let tableLink: string | undefined;
  try {
    const texts = sqlite.prepare(TABLE_ROWS_OF_BUCKET).pluck().all(bucket) as unknown[];
    tableLink = texts.reduce<string>((at, text) => linkOfText(at, String(text)), GENESIS_LINK);
  } catch (error) {
    // A table json_array cannot read (a BLOB) is no sound table: the plainer wording stands. A disk's error is its own.
    if (!refusedBlob(error)) throw error;
  }
  return tableLink === link
    ? `index outpoints_by_bucket disagrees with the table’s own rows in bucket ${bucket} (the database file was edited outside SQLite; the rows chain to the pinned root)`
    : `rows of bucket ${bucket} were edited, inserted or deleted (last row at entry ${last})`;
}

/** The newest link of each bucket's chain (GENESIS_LINK for a bucket with no row), as of one audit entry. */
export class LedgerIndex {
  /**
   * Buckets this index has walked (a sign decides twice): the link they were verified against, the newest row's
   * seq, the outpoints the walk looked for and their rows. Only those rows are kept, not the whole bucket, so a
   * long-lived process (the app) holds a few rows per bucket, not the table.
   */
  private readonly walked = new Map<number, Walk>();

  /** root() as of the last change (a checkpoint asks for it after every unit of work). */
  private rootMemo: string | undefined;

  private constructor(private readonly links: string[]) {}

  static empty(): LedgerIndex {
    return new LedgerIndex(new Array<string>(OUTPOINT_BUCKETS).fill(GENESIS_LINK));
  }

  /** The links as stored in `outpoint_buckets` (unverified: check root() against the pin before relying on them). */
  static stored(sqlite: Sqlite): LedgerIndex {
    const index = LedgerIndex.empty();
    const rows = sqlite.prepare('SELECT bucket, link FROM outpoint_buckets').raw().all() as Array<
      [number, string]
    >;
    for (const [bucket, link] of rows) {
      if (!Number.isSafeInteger(bucket) || bucket < 0 || bucket >= OUTPOINT_BUCKETS)
        ledgerTampered(`index has a bucket ${String(bucket)} that does not exist`, 0);
      // Every link is 64 hex digits, so the root's concatenation cannot shift digits between buckets.
      if (typeof link !== 'string' || !/^[0-9a-f]{64}$/.test(link))
        ledgerTampered(`index has a malformed link for bucket ${bucket}`, 0);
      index.links[bucket] = link;
    }
    return index;
  }

  /**
   * The index computed from the whole table, every link checked against `head` (a pin written before the index
   * existed holds no root): the stored index is rewritten to it.
   */
  static fromTable(sqlite: Sqlite, head: string, uptoSeq: number): LedgerIndex {
    const index = LedgerIndex.empty();
    readWholeTable(sqlite, 'outpoints', head, uptoSeq, (row) => {
      const bucket = bucketOfRow(row);
      index.links[bucket] = nextLink(index.links[bucket]!, row);
    });
    // Written only when it differs: a home without ledger rows (or already rebuilt) may sit on read-only media.
    if (LedgerIndex.stored(sqlite).root() === index.root()) return index;
    sqlite.prepare('DELETE FROM outpoint_buckets').run();
    index.links.forEach((link, bucket) => {
      if (link !== GENESIS_LINK) storeLink(sqlite, bucket, link);
    });
    return index;
  }

  copy(): LedgerIndex {
    const copy = new LedgerIndex([...this.links]);
    copy.rootMemo = this.rootMemo;
    for (const [bucket, walk] of this.walked) copy.walked.set(bucket, walk);
    return copy;
  }

  /** SHA-256 over the domain and every bucket's link in bucket order: what the pin keeps. */
  root(): string {
    this.rootMemo ??= oneShotHash('sha256', `${ROOT_DOMAIN}\n${this.links.join('')}`, 'hex');
    return this.rootMemo;
  }

  /** Extends an outpoint row's bucket (inside the caller's transaction, as the row is inserted); `text` is its rowText. */
  add(sqlite: Sqlite, row: StateRow, text = rowText(row)): number {
    const bucket = bucketOfRow(row);
    const link = linkOfText(this.links[bucket]!, text);
    this.links[bucket] = link;
    this.rootMemo = undefined;
    storeLink(sqlite, bucket, link);
    return bucket;
  }

  /**
   * The rows of the outpoints wanted in each bucket (`wanted`: bucket → its outpoints), each bucket walked from its first
   * row; each chain must end at this index's link (AUDIT_TAMPERED otherwise). A bucket already walked against its
   * current link for every outpoint wanted there now is not read again.
   */
  readBuckets(
    sqlite: Sqlite,
    wanted: ReadonlyMap<number, ReadonlySet<string>>,
    uptoSeq: number,
  ): BucketRow[] {
    // Rows already checked against this very link: rows are immutable and the link commits to all of them.
    const known = (bucket: number, outpoints: ReadonlySet<string>) => {
      const walk = this.walked.get(bucket);
      return (
        walk !== undefined &&
        walk.link === this.links[bucket] &&
        walk.newest <= uptoSeq &&
        [...outpoints].every((outpoint) => walk.looked.has(outpoint))
      );
    };
    const unread = [...wanted].filter(([bucket, outpoints]) => !known(bucket, outpoints)).map(([b]) => b);
    if (unread.length > 0) {
      for (const [bucket, rows] of rowsOfBuckets(sqlite, unread)) {
        // Rows come in seq order: the newest is the last.
        const last = rows.at(-1)?.seq ?? 0;
        if (last > uptoSeq)
          ledgerTampered(
            'has a row naming an entry beyond the checkpointed head',
            rows.find((row) => row.seq > uptoSeq)!.seq,
          );
        const link = chainOf(rows);
        if (link !== this.links[bucket])
          ledgerTampered(bucketMismatch(sqlite, bucket, this.links[bucket]!, last), last);
        const looked = wanted.get(bucket)!;
        const kept = rows.filter((row) => typeof row.outpoint === 'string' && looked.has(row.outpoint));
        this.walked.set(bucket, { link, newest: last, looked, rows: kept });
      }
    }
    return [...wanted].flatMap(([bucket, outpoints]) =>
      this.walked.get(bucket)!.rows.filter((row) => outpoints.has(row.outpoint as string)),
    );
  }

  /** Recomputes the stored links of `buckets` from their rows (after a discarded tail's rows were deleted). */
  static restoreBuckets(sqlite: Sqlite, buckets: Iterable<number>): void {
    for (const [bucket, rows] of rowsOfBuckets(sqlite, [...buckets]))
      storeLink(sqlite, bucket, chainOf(rows));
  }
}

/** The buckets holding rows after entry `seq` (read before a discard deletes them). */
export function bucketsAfter(sqlite: Sqlite, seq: number): number[] {
  return sqlite.prepare('SELECT DISTINCT bucket FROM outpoints WHERE seq > ?').pluck().all(seq) as number[];
}

/**
 * The signed rows of the outpoints in `wanted`, oldest first: each outpoint's bucket walked whole and checked
 * against `index` (AUDIT_TAMPERED on any edit, insertion or deletion there). `uptoSeq`: the newest entry the
 * index covers.
 */
export function signedOutpoints(
  sqlite: Sqlite,
  index: LedgerIndex,
  uptoSeq: number,
  wanted: ReadonlySet<string>,
): SignedOutpoint[] {
  const byBucket = new Map<number, Set<string>>();
  for (const outpoint of wanted) {
    const bucket = outpointBucket(outpoint);
    byBucket.set(bucket, (byBucket.get(bucket) ?? new Set()).add(outpoint));
  }
  const found = index.readBuckets(sqlite, byBucket, uptoSeq);
  found.sort((a, b) => a.seq - b.seq || a.pos - b.pos);
  return found.map((row) => signedOfText(row.text));
}

/** Where each column of an outpoint row sits in its text (json_array of seq, pos and the columns in STATE_COLUMNS order). */
const AT = Object.fromEntries(STATE_COLUMNS.outpoints.map((column, i) => [column, i + 2])) as Record<
  string,
  number
>;

/** A signed outpoint from its row's text. */
function signedOfText(text: string): SignedOutpoint {
  const values = JSON.parse(text) as RowValue[];
  return {
    requestId: String(values[AT.request_id!] ?? ''),
    outpoint: String(values[AT.outpoint!]),
    sats: String(values[AT.sats!] ?? ''),
    script: String(values[AT.script!] ?? ''),
    keyLabel: String(values[AT.key_label!] ?? ''),
    sighashType: Number(values[AT.sighash_type!] ?? 0),
  };
}
