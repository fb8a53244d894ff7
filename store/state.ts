/**
 * The state the policy depends on, as projections of the audit log (docs/audit.md "State is a
 * projection of the log"). Each state table holds rows derived only from audit entries by
 * projectEntry(); every row names the entry it came from (seq, pos) and carries a link:
 *   link = SHA-256( previous row's link ‖ "\n" ‖ JSON [seq, pos, …columns in order] )
 * so each table is a hash chain of its own, whose newest link (its head) is committed by every
 * checkpoint through the state digest. A row edited, inserted or deleted breaks its table's chain.
 * Wallets are part of the policy document, so the policies table covers them.
 * The outpoints table (the Bitcoin outpoints our keys signed, with the amount and scriptPubKey claimed) joined
 * later: it enters the state digest once it has a row, so checkpoints signed before it still verify.
 */
import { createHash, hash as oneShotHash } from 'node:crypto';
import { makeError } from '../core/errors.js';
import { canonicalJson } from '../policy/canonical.js';
import type { Sqlite } from './database.js';
import { jsonScalar } from './json-text.js';
import type { LedgerIndex } from './outpoint-ledger.js';

export const STATE_TABLES = [
  'officers',
  'governance',
  'keys',
  'policies',
  'velocity',
  'approvals',
  'outpoints',
] as const;
export type StateTable = (typeof STATE_TABLES)[number];
/** Small tables are read whole and verified whole; the others are verified from the head back as far as read. */
export const SMALL_TABLES: readonly StateTable[] = ['officers', 'governance', 'keys', 'policies'];

/**
 * Tables added after checkpoints with state digests were first signed: while empty they are left out of the
 * digest and may be absent from stored heads, so older checkpoints and logs verify unchanged.
 */
const LATER_TABLES: readonly StateTable[] = ['outpoints'];

/** Newest link of each state table. */
export type StateHeads = Record<StateTable, string>;

export const GENESIS_LINK = '0'.repeat(64);
const STATE_DOMAIN = 'coldsign-state/1';

/** Columns of each table besides seq, pos and link, in insertion order. */
export const STATE_COLUMNS: Record<StateTable, readonly string[]> = {
  officers: ['name', 'public_key', 'enrolled_at'],
  governance: ['quorum', 'officers'],
  keys: [
    'label',
    'chain',
    'public_key',
    'key_id',
    'address',
    'network',
    'script',
    'descriptor',
    'created_at',
  ],
  policies: ['version', 'document', 'digest', 'applied_at'],
  velocity: ['request_id', 'rule', 'asset', 'raw', 'time_ms', 'txid'],
  approvals: ['request_id', 'officer', 'signature', 'created_at', 'policy_version', 'expires_at', 'keys'],
  outpoints: ['request_id', 'outpoint', 'sats', 'script', 'key_label', 'sighash_type'],
};

export type RowValue = string | number | null;

export interface StateRow {
  table: StateTable;
  seq: number;
  pos: number;
  values: Record<string, RowValue>;
}

export function emptyHeads(): StateHeads {
  return Object.fromEntries(STATE_TABLES.map((t) => [t, GENESIS_LINK])) as StateHeads;
}

/** The digest a checkpoint signs over the state: SHA-256 of the RFC 8785 JSON of the heads. */
export function stateDigest(heads: StateHeads): string {
  const committed: Partial<StateHeads> = { ...heads };
  for (const t of LATER_TABLES) if (heads[t] === GENESIS_LINK) delete committed[t];
  return createHash('sha256')
    .update(canonicalJson({ domain: STATE_DOMAIN, ...committed }))
    .digest('hex');
}

export function parseHeads(text: string | null | undefined): StateHeads | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    for (const t of LATER_TABLES) value[t] ??= GENESIS_LINK;
    if (STATE_TABLES.every((t) => typeof value[t] === 'string' && /^[0-9a-f]{64}$/.test(value[t] as string)))
      return Object.fromEntries(STATE_TABLES.map((t) => [t, value[t]])) as StateHeads;
  } catch {}
  return undefined;
}

/**
 * JSON array [seq, pos, …values in column order]: the row's bytes under its link (JSON.stringify's bytes, which
 * are also SQLite's json_array of the stored columns: test/store/state-row-text.test.ts).
 */
export function rowText(row: StateRow): string {
  let text = `[${jsonScalar(row.seq)},${jsonScalar(row.pos)}`;
  for (const column of STATE_COLUMNS[row.table]) text += `,${jsonScalar(row.values[column])}`;
  return `${text}]`;
}

/**
 * A stored row's text as SQLite's json_array writes it: for the values a STRICT table holds, the bytes of
 * rowText (JSON.stringify's; test/store/state-row-text.test.ts), so one string per row is read and compared
 * instead of one value per column.
 */
export function storedRowText(table: StateTable): string {
  return `json_array(${['seq', 'pos', ...STATE_COLUMNS[table]].join(', ')})`;
}

export function nextLink(previous: string, row: StateRow): string {
  return linkOfText(previous, rowText(row));
}

/** The link after `previous` of a row whose text (rowText) is `text`. */
export function linkOfText(previous: string, text: string): string {
  return oneShotHash('sha256', `${previous}\n${text}`, 'hex');
}

type Payload = Record<string, unknown>;

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** The state tables each state entry type projects into. */
const TABLES_OF_TYPE: ReadonlyMap<string, readonly StateTable[]> = new Map<string, readonly StateTable[]>([
  ['officer.enrolled', ['officers']],
  ['governance.quorum', ['governance']],
  ['key.registered', ['keys']],
  ['policy.applied', ['policies']],
  ['signing.started', ['velocity', 'outpoints']],
  ['signature', ['velocity', 'outpoints']],
  ['approval', ['approvals']],
]);

/** True when entries of this type add rows to a state table. */
export function isStateType(type: string): boolean {
  return TABLES_OF_TYPE.has(type);
}

/**
 * The outpoint rows of a counted signing: one per (input, key) signed, from its `outpoints` member (entries
 * written before it existed have none). Members that are not objects are skipped; fields are kept as given.
 */
function outpointRows(signing: CountedSigning, into: Array<Record<string, RowValue>>): void {
  if (!Array.isArray(signing.outpoints)) return;
  for (const o of signing.outpoints as unknown[]) {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) continue;
    const claim = o as Payload;
    into.push({
      request_id: str(signing.requestId),
      outpoint: str(claim.outpoint),
      sats: str(claim.sats),
      script: str(claim.script),
      key_label: str(claim.keyLabel),
      sighash_type: num(claim.sighashType),
    });
  }
}

/**
 * The rows an audit entry adds to the state tables (none for most entry types). Pure: the same
 * entry always gives the same rows, so the tables can be rebuilt or checked from the log.
 * `parsed` is the payload already parsed by the caller (the payload is parsed once per entry).
 */
export function projectEntry(
  entry: {
    seq: number;
    time: string;
    type: string;
    payload: string;
  },
  parsed?: unknown,
): StateRow[] {
  const tables = TABLES_OF_TYPE.get(entry.type);
  if (!tables) return [];
  const p = (parsed ?? JSON.parse(entry.payload)) as Payload;
  // Plain loops here and below, not flatMap: `audit verify` projects every signing entry of the log (docs/audit.md).
  let counted: CountedSigning[] | undefined; // read once for both tables of a signing entry
  const signings = () => (counted ??= countedSignings(entry.type, p));
  if (tables.length === 1) return projectInto(tables[0]!, entry, p, signings);
  const rows: StateRow[] = [];
  for (const table of tables) for (const row of projectInto(table, entry, p, signings)) rows.push(row);
  return rows;
}

/** A counted signing: its velocity terms (`spent`, `rule`, `txid`), and the request id and outpoints it names. */
interface CountedSigning {
  terms: Payload;
  requestId: unknown;
  outpoints: unknown;
}

/**
 * The counted signings of a "signing.started" (each announced request with its `velocity`) or of a "signature"
 * entry written before announcements were counted (no `countedAt`): what velocity and the ledger project.
 */
function countedSignings(type: string, p: Payload): CountedSigning[] {
  if (type === 'signature')
    return p.countedAt === undefined ? [{ terms: p, requestId: p.requestId, outpoints: p.outpoints }] : [];
  const counted: CountedSigning[] = [];
  if (!Array.isArray(p.requests)) return counted;
  for (const r of p.requests as unknown[]) {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) continue;
    const request = r as Payload;
    const velocity = request.velocity as Payload | undefined;
    if (typeof velocity !== 'object' || velocity === null) continue;
    counted.push({ terms: velocity, requestId: request.requestId, outpoints: request.outpoints });
  }
  return counted;
}

function projectInto(
  table: StateTable,
  entry: { seq: number; time: string; type: string },
  p: Payload,
  signings: () => CountedSigning[],
): StateRow[] {
  const row = (values: Record<string, RowValue>, pos = 0): StateRow => ({
    table,
    seq: entry.seq,
    pos,
    values,
  });
  switch (table) {
    case 'officers':
      return [row({ name: str(p.name), public_key: str(p.publicKey), enrolled_at: entry.time })];
    case 'governance':
      return [row({ quorum: num(p.quorum), officers: canonicalJson(p.officers ?? []) })];
    case 'keys':
      return [
        row({
          label: str(p.label),
          chain: str(p.chain),
          public_key: str(p.publicKey)?.toLowerCase() ?? null,
          key_id: str(p.keyId),
          address: str(p.address),
          network: str(p.network),
          script: str(p.script),
          descriptor: str(p.descriptor),
          created_at: str(p.createdAt),
        }),
      ];
    case 'policies':
      return [
        row({
          version: num(p.version),
          document: canonicalJson(p.document ?? null),
          digest: str(p.digest),
          applied_at: entry.time,
        }),
      ];
    case 'velocity': {
      const rows: StateRow[] = [];
      let timeMs: number | undefined; // parsed once, and only for an entry that counts a signing
      for (const { terms, requestId } of signings()) {
        timeMs ??= Date.parse(entry.time);
        const spent = Object.entries((terms.spent ?? {}) as Record<string, string>);
        const assets = spent.length > 0 ? spent : [['none', '0'] as [string, string]];
        for (const [asset, raw] of assets)
          rows.push(
            row(
              {
                request_id: str(requestId),
                rule: str(terms.rule),
                asset,
                raw: String(raw),
                time_ms: timeMs,
                txid: str(terms.txid) ?? str(requestId),
              },
              rows.length,
            ),
          );
      }
      return rows;
    }
    case 'approvals':
      return [
        row({
          request_id: str(p.requestId),
          officer: str(p.officer),
          signature: str(p.signature),
          created_at: str(p.createdAt),
          policy_version: num(p.policyVersion),
          expires_at: str(p.expiresAt),
          keys: canonicalJson(p.keys ?? []),
        }),
      ];
    case 'outpoints': {
      const values: Array<Record<string, RowValue>> = [];
      for (const signing of signings()) outpointRows(signing, values);
      return values.map((v, pos) => row(v, pos));
    }
  }
}

/** Columns a table stores besides its row text: an outpoint row's bucket in the ledger's index (store/outpoint-ledger.ts). */
const STORED_EXTRA: Partial<Record<StateTable, readonly string[]>> = { outpoints: ['bucket'] };

const insertSql = new Map<StateTable, string>(
  STATE_TABLES.map((t) => {
    const columns = ['seq', 'pos', ...STATE_COLUMNS[t], ...(STORED_EXTRA[t] ?? []), 'link'];
    return [t, `INSERT INTO ${t} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`];
  }),
);

type Prepared = {
  run(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
};
const preparedStatements = new WeakMap<Sqlite, Map<string, Prepared>>();

/** A statement prepared once per connection and SQL text (`raw`: rows as arrays), for the statements run per row. */
export function preparedOnce(sqlite: Sqlite, sql: string, raw = false): Prepared {
  let bySql = preparedStatements.get(sqlite);
  if (!bySql) preparedStatements.set(sqlite, (bySql = new Map()));
  const key = raw ? `raw ${sql}` : sql;
  let statement = bySql.get(key);
  if (!statement) {
    const fresh = sqlite.prepare(sql);
    bySql.set(key, (statement = (raw ? fresh.raw() : fresh) as unknown as Prepared));
  }
  return statement;
}

/**
 * Inserts projected rows, extending `heads` (mutated) with their links and `ledger` (mutated) with the outpoint
 * rows. Runs inside the caller's transaction.
 */
export function applyRows(
  sqlite: Sqlite,
  rows: readonly StateRow[],
  heads: StateHeads,
  ledger: LedgerIndex,
): void {
  for (const row of rows) {
    const insert = preparedOnce(sqlite, insertSql.get(row.table)!);
    const text = rowText(row);
    const link = linkOfText(heads[row.table], text);
    const values = STATE_COLUMNS[row.table].map((c) => row.values[c] ?? null);
    if (row.table === 'outpoints') values.push(ledger.add(sqlite, row, text));
    insert.run(row.seq, row.pos, ...values, link);
    heads[row.table] = link;
  }
}

function tampered(table: StateTable, seq: number, what: string): never {
  throw makeError(
    'AUDIT_TAMPERED',
    `The ${table} table does not match the audit log at entry ${seq}: ${what}. Nothing is signed.`,
    { seq, table },
  );
}

type RawRow = RowValue[];

function toStateRow(table: StateTable, raw: RawRow): { row: StateRow; link: string } {
  const [seq, pos, ...rest] = raw;
  const columns = STATE_COLUMNS[table];
  const values: Record<string, RowValue> = {};
  columns.forEach((c, i) => (values[c] = rest[i] ?? null));
  return { row: { table, seq: Number(seq), pos: Number(pos), values }, link: String(rest[columns.length]) };
}

function selectSql(table: StateTable, where: string, order: 'ASC' | 'DESC'): string {
  const columns = ['seq', 'pos', ...STATE_COLUMNS[table], 'link'];
  return `SELECT ${columns.join(', ')} FROM ${table} ${where} ORDER BY seq ${order}, pos ${order}`;
}

/**
 * Walks a whole table from its first row, checking every link; the table must end at `head`
 * for rows up to `uptoSeq` and hold no row beyond it. Returns the number of rows (memory stays flat).
 */
export function verifyWholeTable(sqlite: Sqlite, table: StateTable, head: string, uptoSeq: number): number {
  let rows = 0;
  readWholeTable(sqlite, table, head, uptoSeq, () => (rows += 1));
  return rows;
}

/**
 * As verifyWholeTable, handing each row to `visit` as it is read; `visit` may keep what it needs, but a
 * caller may act on it only once this returns (a later row or the head may still fail).
 */
export function readWholeTable(
  sqlite: Sqlite,
  table: StateTable,
  head: string,
  uptoSeq: number,
  visit: (row: StateRow) => void,
): void {
  let link = GENESIS_LINK;
  const statement = sqlite.prepare(selectSql(table, '', 'ASC')).raw();
  for (const raw of statement.iterate() as IterableIterator<RawRow>) {
    const { row, link: stored } = toStateRow(table, raw);
    if (row.seq > uptoSeq) tampered(table, row.seq, 'a row names an entry beyond the checkpointed head');
    link = nextLink(link, row);
    if (link !== stored) tampered(table, row.seq, 'a row was edited, inserted or deleted');
    visit(row);
  }
  if (link !== head) tampered(table, uptoSeq, 'rows were deleted or added');
}

/**
 * Checks the newest row of a table against `head` (O(1)): enough at start-up for the tables that
 * grow with use, whose older rows are verified as far back as they are read (readSuffix).
 */
export function verifyTableHead(sqlite: Sqlite, table: StateTable, head: string, uptoSeq: number): void {
  const rows = sqlite
    .prepare(`${selectSql(table, '', 'DESC')} LIMIT 2`)
    .raw()
    .all() as RawRow[];
  const newest = rows[0] ? toStateRow(table, rows[0]) : undefined;
  if (!newest) {
    if (head !== GENESIS_LINK) tampered(table, uptoSeq, 'rows were deleted');
    return;
  }
  if (newest.row.seq > uptoSeq)
    tampered(table, newest.row.seq, 'a row names an entry beyond the checkpointed head');
  const previous = rows[1] ? toStateRow(table, rows[1]).link : GENESIS_LINK;
  if (newest.link !== head || nextLink(previous, newest.row) !== head)
    tampered(table, newest.row.seq, 'the newest row was edited, inserted or deleted');
}

/**
 * Reads a table from its newest row backwards, verifying each row's link against `head` and its
 * predecessor, until `stop(row)` holds for a verified row (that row is not returned).
 */
export function readSuffix(
  sqlite: Sqlite,
  table: StateTable,
  head: string,
  stop: (row: StateRow) => boolean,
): StateRow[] {
  const out: StateRow[] = [];
  let expected = head;
  let newer: { row: StateRow; link: string } | undefined;
  const verify = (row: { row: StateRow; link: string }, previousLink: string) => {
    if (row.link !== expected || nextLink(previousLink, row.row) !== row.link)
      tampered(table, row.row.seq, 'a row was edited, inserted or deleted');
    expected = previousLink;
  };
  const statement = sqlite.prepare(selectSql(table, '', 'DESC')).raw();
  for (const raw of statement.iterate() as IterableIterator<RawRow>) {
    const current = toStateRow(table, raw);
    if (newer) {
      verify(newer, current.link);
      if (stop(newer.row)) return out;
      out.push(newer.row);
    }
    newer = current;
  }
  if (newer) {
    verify(newer, GENESIS_LINK);
    if (!stop(newer.row)) out.push(newer.row);
  } else if (head !== GENESIS_LINK) tampered(table, 0, 'rows were deleted');
  return out;
}

/** Current heads of every table as stored (not verified): the link of each newest row. */
export function storedHeads(sqlite: Sqlite): StateHeads {
  const heads = emptyHeads();
  for (const t of STATE_TABLES) {
    const row = sqlite.prepare(`SELECT link FROM ${t} ORDER BY seq DESC, pos DESC LIMIT 1`).get() as
      { link: string } | undefined;
    if (row) heads[t] = row.link;
  }
  return heads;
}

/** Rows with seq > `afterSeq`, oldest first (the tail after a checkpoint). */
export function rowsAfter(
  sqlite: Sqlite,
  table: StateTable,
  afterSeq: number,
): Array<{ row: StateRow; link: string }> {
  const raws = sqlite
    .prepare(selectSql(table, 'WHERE seq > ?', 'ASC'))
    .raw()
    .all(afterSeq) as RawRow[];
  return raws.map((raw) => toStateRow(table, raw));
}

/** The link of the newest row with seq ≤ `seq` (the table's head as of that entry). */
export function headAt(sqlite: Sqlite, table: StateTable, seq: number): string {
  const row = sqlite
    .prepare(`SELECT link FROM ${table} WHERE seq <= ? ORDER BY seq DESC, pos DESC LIMIT 1`)
    .get(seq) as { link: string } | undefined;
  return row?.link ?? GENESIS_LINK;
}

/** Empties every state table (before a rebuild from the log). */
export function clearState(sqlite: Sqlite): void {
  for (const t of STATE_TABLES) sqlite.prepare(`DELETE FROM ${t}`).run();
  sqlite.prepare('DELETE FROM outpoint_buckets').run();
}

/** Deletes the rows of every state table that name an entry after `seq` (a discarded tail). */
export function deleteStateAfter(sqlite: Sqlite, seq: number): void {
  for (const t of STATE_TABLES) sqlite.prepare(`DELETE FROM ${t} WHERE seq > ?`).run(seq);
}

/**
 * Replays the projections of verified entries (audit verify, offline export verification): the heads
 * the state tables must have after each entry.
 */
export class StateReplay {
  readonly heads: StateHeads = emptyHeads();

  /** `onRow` sees each replayed row with its link (to compare the stored tables as the log is read). */
  constructor(private readonly onRow?: (row: StateRow, link: string) => void) {}

  add(entry: { seq: number; time: string; type: string; payload: string }, parsed?: unknown): StateRow[] {
    const rows = projectEntry(entry, parsed);
    for (const row of rows) {
      const link = nextLink(this.heads[row.table], row);
      this.heads[row.table] = link;
      this.onRow?.(row, link);
    }
    return rows;
  }

  digest(): string {
    return stateDigest(this.heads);
  }
}
