/**
 * One range of the full verification (audit verify), checked on its own so that ranges can run in
 * parallel (store/audit-verify.ts): the entries with seq in (from, to] are hashed and linked to each
 * other, their state projections replayed and compared with the stored state rows (read in batches beside
 * them, each as its JSON text), and each stored row's link checked as SHA-256(previous stored link ‖ row).
 * What crosses a range boundary (the first entry's link, the first stored row's predecessor, the
 * signing events, the heads at each checkpoint) is reported, and stitched in order by
 * store/audit-verify-stitch.ts. Reasons are worded exactly as the sequential verifier words them.
 */
import { entryHash, followsSigning, signingRequestIds } from './audit-entry-hash.js';
import {
  GENESIS_LINK,
  STATE_COLUMNS,
  STATE_TABLES,
  isStateType,
  linkOfText,
  rowText,
  projectEntry,
  storedRowText,
  type RowValue,
  type StateRow,
  type StateTable,
} from './state.js';
import type { Sqlite } from './database.js';
import { encodeRequestIdSet, fingerprintRequestIds } from './request-id-set.js';

/**
 * Entries (and stored rows of a table) read per query (cheaper per row than a cursor). Small enough that a
 * batch dies in a worker's young generation: at 512, rows outlived two scavenges and were promoted, and old-space
 * collections took about a fifth of a worker's CPU time on a 1M-entry log (docs/audit.md, "Full verification").
 */
export const SCAN_CHUNK = 128;

export interface RangeSpec {
  /** Entries with seq in (from, to]. */
  from: number;
  to: number;
  /** The first range also reads stored state rows below it; the last, those above it. */
  first: boolean;
  last: boolean;
  /** Compare the stored state tables (audit verify); without, only the replayed heads are reported. */
  tables: boolean;
  /**
   * Heads of the replay before the range, when the caller knows them (ranges verified one after the
   * other); otherwise the link of the stored row just before the range, checked by the stitcher.
   */
  startLinks?: string[];
  /** Entries and stored rows read per query (default SCAN_CHUNK; tests make it small to cross batch edges). */
  chunk?: number;
}

/** A problem found inside a range: `at` is the entry whose processing finds it, `through` the last entry whose signing events count. */
export interface RangeBad {
  at: number;
  through: number;
  seq: number;
  reason: string;
}

/**
 * The range's net signing events, compact (so the main thread holds no per-id objects): `opens` the
 * request ids still open at the range's end, in the order a Map of every event would list them,
 * with their seq; `closedBefore` the ids closed while the range had not started them (signings
 * started before the range), an exact set; `restarted` the fingerprints of the ids closed after the
 * range started them (they matter only when an earlier range left the same id open, which a
 * fingerprint match sends to the exact replay). Both are bytes (store/request-id-set.ts). A
 * verdict that stops inside the range, or a fingerprint match, replays that range's events one by one
 * instead (signingEventsIn, read again).
 */
export interface SigningEvents {
  opens: Array<[string, number]>;
  closedBefore: Uint8Array;
  restarted: Uint32Array;
}

/** One signing event: started (or closed), at entry seq, for these request ids. */
export type SigningEvent = [started: boolean, seq: number, ids: string[]];

/**
 * Collects one range's net signing events (SigningTracker's semantics, applied later in order). A close
 * of an id the range itself left open goes to `restarted`, any other close to `closedBefore` (an id
 * may end in both: the main thread then replays the range, exactly).
 */
class RangeSigning {
  private readonly open = new Map<string, number>();
  private readonly closedBefore = new Set<string>();
  /** Only fingerprinted at the end, so a list (an id twice gives its fingerprint twice, which changes no answer). */
  private readonly restarted: string[] = [];

  add(started: boolean, seq: number, ids: string[]): void {
    for (const id of ids) {
      if (started) this.open.set(id, seq);
      else if (this.open.delete(id)) this.restarted.push(id);
      else this.closedBefore.add(id);
    }
  }

  result(): SigningEvents {
    return {
      opens: [...this.open],
      closedBefore: encodeRequestIdSet(this.closedBefore),
      restarted: fingerprintRequestIds(this.restarted),
    };
  }
}

/**
 * Entry types a report lists by reading the log's type index (a re-anchor, a discarded tail): the walk notes where
 * they are, so that the listing can be checked against the entries themselves (Auditor.verify).
 */
export const LISTED_TYPES: readonly string[] = ['audit.reanchored', 'audit.discarded'];

export interface RangeResult {
  from: number;
  to: number;
  /** Seqs of the verified entries of a LISTED_TYPES type, in order. */
  listed: number[];
  first?: { seq: number; prev: string };
  last?: { seq: number; hash: string };
  bad?: RangeBad;
  /** Per checkpoint seq inside the range: the entry's hash and the links of the tables with rows in the range so far. */
  checkpoints: Array<{ seq: number; hash: string; heads: Array<string | null> }>;
  /** Link of the stored row just before the range, per table (STATE_TABLES order). */
  startLinks: string[];
  /** Replayed link after the range's last row, per table, or null (no row in the range). */
  endLinks: Array<string | null>;
  /** Seq of the first projected row per table in the range, or null; and that entry's hash. */
  firstProjected: Array<number | null>;
  firstProjectedHash: Array<string | null>;
  /** Seq of the first stored row left over (no projected row took it), per table, or null. */
  leftover: Array<number | null>;
  signing: SigningEvents;
}

/** A stored state row as read here: seq, pos, its text (json_array of seq, pos and the columns), link. */
type RawRow = [number, number, string, string];
type EntryRow = [number, string, string, string, string, string];
type Statement = { all(...params: unknown[]): unknown[]; get(...params: unknown[]): unknown };

const ENTRY_COLUMNS = 'seq, time, type, payload, prev_hash, hash';

/**
 * Stored rows of `table` in (seq, pos) order, a batch at a time: the first batch from the range's lower bound
 * (none: every row below), the next ones after the last row read (keyset), all up to the upper bound (none:
 * every row above).
 */
function tableSelect(
  table: StateTable,
  from: 'start' | 'lower' | 'after',
  upper: boolean,
  asText = true,
): string {
  const columns = asText
    ? `seq, pos, ${storedRowText(table)}, link`
    : ['seq', 'pos', ...STATE_COLUMNS[table], 'link'].join(', ');
  const lowerClause = { start: '', lower: 'seq > ?', after: '(seq, pos) > (?, ?)' }[from];
  const where = [lowerClause, upper ? 'seq <= ?' : ''].filter(Boolean).join(' AND ');
  return `SELECT ${columns} FROM ${table}${where ? ` WHERE ${where}` : ''} ORDER BY seq, pos LIMIT ?`;
}

/** Prepared statements of one connection, reused by every range it verifies. */
class Statements {
  readonly entries: Statement;
  readonly checkpointSeqs: Statement;
  private readonly batches = new Map<string, Statement>();
  private readonly before = new Map<StateTable, Statement>();
  private readonly after = new Map<StateTable, Statement>();

  constructor(private readonly sqlite: Sqlite) {
    this.entries = sqlite
      .prepare(`SELECT ${ENTRY_COLUMNS} FROM audit_log WHERE seq > ? AND seq <= ? ORDER BY seq`)
      .raw();
    this.checkpointSeqs = sqlite
      .prepare('SELECT seq FROM audit_checkpoints WHERE seq > ? AND seq <= ? ORDER BY seq')
      .pluck();
  }

  /** Up to `limit` stored rows of `table` after `from` (a seq, or a row's (seq, pos)), with seq ≤ `upper` when given. */
  batch(
    table: StateTable,
    from: number | [number, number] | undefined,
    upper: number | undefined,
    limit: number,
  ): RawRow[] {
    const start = from === undefined ? 'start' : typeof from === 'number' ? 'lower' : 'after';
    const key = `${table}:${start}:${upper !== undefined}`;
    let statement = this.batches.get(key);
    if (!statement) {
      statement = this.sqlite.prepare(tableSelect(table, start, upper !== undefined)).raw();
      this.batches.set(key, statement);
    }
    const params = [...(from === undefined ? [] : typeof from === 'number' ? [from] : from)];
    if (upper !== undefined) params.push(upper);
    try {
      return statement.all(...params, limit) as RawRow[];
    } catch {
      // json_array refuses a BLOB, which a STRICT table cannot hold: the table was rebuilt without STRICT. The batch
      // is read column by column instead; a BLOB's text (a Buffer's JSON) then equals no projected row's, and the
      // row is named like any other edit. Any other failure of that read propagates (fail closed).
      const columns = this.sqlite.prepare(tableSelect(table, start, upper !== undefined, false)).raw();
      return (columns.all(...params, limit) as RowValue[][]).map((row) => {
        const [seq, pos, ...rest] = row as [number, number, ...RowValue[]];
        const link = rest.pop() as string;
        const values = Object.fromEntries(STATE_COLUMNS[table].map((column, i) => [column, rest[i] ?? null]));
        return [seq, pos, rowText({ table, seq, pos, values }), link];
      });
    }
  }

  /** Link of the newest stored row with seq ≤ `seq`. */
  linkBefore(table: StateTable, seq: number): string {
    let statement = this.before.get(table);
    if (!statement) {
      statement = this.sqlite
        .prepare(`SELECT link FROM ${table} WHERE seq <= ? ORDER BY seq DESC, pos DESC LIMIT 1`)
        .pluck();
      this.before.set(table, statement);
    }
    return (statement.get(seq) as string | undefined) ?? GENESIS_LINK;
  }

  /** True when a stored row of `table` has seq > `seq`. */
  rowAfter(table: StateTable, seq: number): boolean {
    let statement = this.after.get(table);
    if (!statement) {
      statement = this.sqlite.prepare(`SELECT 1 FROM ${table} WHERE seq > ? LIMIT 1`).pluck();
      this.after.set(table, statement);
    }
    return statement.get(seq) !== undefined;
  }
}

const statementsOf = new WeakMap<Sqlite, Statements>();

function statements(sqlite: Sqlite): Statements {
  let found = statementsOf.get(sqlite);
  if (!found) statementsOf.set(sqlite, (found = new Statements(sqlite)));
  return found;
}

const TABLE_INDEX = new Map<StateTable, number>(STATE_TABLES.map((t, i) => [t, i]));

/**
 * The stored rows of one table inside a range, read in batches as the replay consumes them: a table with no
 * row in the range costs one query, and memory holds one batch per table.
 */
class StoredRows {
  private rows: RawRow[] = [];
  private next = 0;
  private exhausted = false;

  constructor(
    private readonly s: Statements,
    private readonly table: StateTable,
    private readonly lower: number | undefined,
    private readonly upper: number | undefined,
    private readonly chunk: number,
  ) {}

  /** The next stored row not yet taken, or undefined when the range has no more. */
  peek(): RawRow | undefined {
    if (this.next < this.rows.length) return this.rows[this.next];
    if (this.exhausted) return undefined;
    const last = this.rows.at(-1);
    const from: number | [number, number] | undefined = last
      ? [Number(last[0]), Number(last[1])]
      : this.lower;
    this.rows = this.s.batch(this.table, from, this.upper, this.chunk);
    this.next = 0;
    this.exhausted = this.rows.length < this.chunk;
    return this.rows[0];
  }

  take(): void {
    this.next += 1;
  }
}

/**
 * The signing events of the entries with seq in (from, through], in order (read again when a
 * verdict stops inside a range; those entries were verified, so their payloads parse). Read from the
 * log itself (NOT INDEXED: a seq range of the table), not through the type index, which nothing verified.
 */
export function signingEventsIn(sqlite: Sqlite, from: number, through: number): SigningEvent[] {
  const events: SigningEvent[] = [];
  const rows = sqlite
    .prepare(
      "SELECT seq, type, payload FROM audit_log NOT INDEXED WHERE seq > ? AND seq <= ? AND type IN ('signing.started', 'signature', 'signing.failed') ORDER BY seq",
    )
    .raw()
    .iterate(from, through) as IterableIterator<[number, string, string]>;
  for (const [seq, type, payload] of rows) {
    const ids = signingRequestIds(JSON.parse(payload));
    if (ids.length > 0) events.push([type === 'signing.started', seq, ids]);
  }
  return events;
}

/** Verifies one range; never throws for bad data (database errors propagate to the caller, which fails closed). */
export function verifyRange(sqlite: Sqlite, spec: RangeSpec): RangeResult {
  const s = statements(sqlite);
  const startLinks =
    spec.startLinks ?? STATE_TABLES.map((t) => (spec.first ? GENESIS_LINK : s.linkBefore(t, spec.from)));
  const links: Array<string> = [...startLinks];
  const firstProjected: Array<number | null> = STATE_TABLES.map(() => null);
  const firstProjectedHash: Array<string | null> = STATE_TABLES.map(() => null);
  const leftover: Array<number | null> = STATE_TABLES.map(() => null);
  const checkpointSeqs = new Set(s.checkpointSeqs.all(spec.from, spec.to) as number[]);
  const result: RangeResult = {
    from: spec.from,
    to: spec.to,
    listed: [],
    checkpoints: [],
    startLinks,
    endLinks: [],
    firstProjected,
    firstProjectedHash,
    leftover,
    signing: { opens: [], closedBefore: new Uint8Array(0), restarted: new Uint32Array(0) },
  };
  const signing = new RangeSigning();
  let previous: { seq: number; hash: string } | undefined;
  // The replayed link of each table with rows in the range so far (null: none yet).
  const headsInRange = () => links.map((link, t) => (firstProjected[t] === null ? null : link));
  const fail = (bad: RangeBad): RangeResult => {
    result.bad = bad;
    if (previous) result.last = previous;
    result.signing = signing.result();
    return result;
  };

  const chunk = spec.chunk ?? SCAN_CHUNK;
  // The stored state rows of the range (the first range reads every row below it, the last every row above it).
  const stored = spec.tables
    ? STATE_TABLES.map(
        (table) =>
          new StoredRows(
            s,
            table,
            spec.first ? undefined : spec.from,
            spec.last ? undefined : spec.to,
            chunk,
          ),
      )
    : [];
  for (let lo = spec.from; lo < spec.to; lo += chunk) {
    const hi = Math.min(lo + chunk, spec.to);
    const rows = s.entries.all(lo, hi) as EntryRow[];
    for (const [seq, time, type, payload, prev, hash] of rows) {
      if (!previous) {
        result.first = { seq, prev };
      } else {
        const expected = previous.seq + 1;
        if (seq !== expected) {
          return fail({
            at: expected,
            through: previous.seq,
            seq: expected,
            reason: `entry ${expected} is missing (the next entry found is ${seq}): entries were deleted`,
          });
        }
        if (prev !== previous.hash) {
          return fail({
            at: seq,
            through: previous.seq,
            seq,
            reason: `entry ${seq} does not link to the hash of entry ${expected - 1}: an entry was inserted, deleted or reordered`,
          });
        }
      }
      if (entryHash(seq, time, type, payload, prev) !== hash) {
        return fail({
          at: seq,
          through: seq - 1,
          seq,
          reason: `entry ${seq} was modified: its content does not match its hash`,
        });
      }
      if (LISTED_TYPES.includes(type)) result.listed.push(seq);
      const signingEntry = followsSigning(type);
      if (signingEntry || isStateType(type)) {
        let projected: StateRow[];
        let ids: string[] = [];
        try {
          // Parsed once, and only for the types that project state or track signing (as ChainVerifier does).
          const parsed: unknown = JSON.parse(payload);
          projected = projectEntry({ seq, time, type, payload }, parsed);
          if (signingEntry) ids = signingRequestIds(parsed);
        } catch {
          return fail({
            at: seq,
            through: seq - 1,
            seq,
            reason: `entry ${seq} has a payload that is not valid JSON`,
          });
        }
        let tableBad: RangeBad | undefined;
        for (const row of projected) {
          const t = TABLE_INDEX.get(row.table)!;
          if (firstProjected[t] === null) {
            firstProjected[t] = seq;
            firstProjectedHash[t] = hash;
          }
          const text = rowText(row);
          const link = linkOfText(links[t]!, text);
          links[t] = link;
          if (!spec.tables || tableBad) continue;
          // A stored row no earlier entry took compares unequal here, reported at its own (lower) seq.
          const storedRow = stored[t]!.peek();
          if (storedRow === undefined) {
            const later = !spec.last && s.rowAfter(row.table, spec.to);
            tableBad = later
              ? tableMismatch(row.table, seq, row.seq)
              : {
                  at: seq,
                  through: seq,
                  seq: row.seq,
                  reason: `the ${row.table} table does not match the audit log at entry ${row.seq}: rows were deleted`,
                };
            continue;
          }
          stored[t]!.take();
          if (storedRow[2] !== text || storedRow[3] !== link)
            tableBad = tableMismatch(row.table, seq, Math.min(row.seq, Number(storedRow[0])));
        }
        if (signingEntry && ids.length > 0) signing.add(type === 'signing.started', seq, ids);
        if (tableBad) {
          previous = { seq, hash };
          return fail(tableBad);
        }
      }
      previous = { seq, hash };
      if (checkpointSeqs.has(seq)) result.checkpoints.push({ seq, hash, heads: headsInRange() });
    }
  }
  // Stored rows of the range that no entry projected: left over (the stitcher reports them at the next
  // projected row of their table, or at the end).
  stored.forEach((rows, t) => {
    const rest = rows.peek();
    if (rest !== undefined) leftover[t] = Number(rest[0]);
  });
  if (previous) result.last = previous;
  result.signing = signing.result();
  result.endLinks = headsInRange();
  return result;
}

function tableMismatch(table: StateTable, at: number, seq: number): RangeBad {
  return {
    at,
    through: at,
    seq,
    reason: `the ${table} table does not match the audit log at entry ${seq}: a row was edited, inserted or deleted`,
  };
}
