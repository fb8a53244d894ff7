/**
 * The coldsign database (better-sqlite3): WAL journal with synchronous=FULL so that a committed
 * transaction survives power loss (SQLite "PRAGMA synchronous" docs), foreign keys on, and the
 * versioned migrations of store/migrations.ts. It owns the key registry and every record of the
 * audit trail; the other store/ modules are functions over a ColdsignDb. The state tables are
 * projections of the audit log, written only through Auditor.commit (store/audit.ts).
 */
import Database from 'better-sqlite3';
import { sqliteBinding } from './sqlite-addon.js';
import { readFileSync } from 'node:fs';
import { isColdsignError, makeError, storageFailure } from '../core/errors.js';
import type { KeyDirectory, KeyRecord } from '../core/signer.js';
import { findKey, findKeyByPublicKey, listKeys } from './keys.js';
import { MIGRATIONS, type Migration } from './migrations.js';
import { outpointBucket } from './outpoint-ledger.js';
import { checkSchema, schemaOf, type SchemaObject } from './schema-check.js';
import { SCHEMA_STRUCTURE } from './schema-structure.js';

export type Sqlite = Database.Database;

export class ColdsignDb implements KeyDirectory {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    readonly sqlite: Sqlite,
    readonly path: string,
  ) {}

  /** A prepared statement, prepared once per connection. */
  statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.sqlite.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs `fn` in one IMMEDIATE transaction (all or nothing, committed with a full fsync). */
  transaction<T>(fn: () => T): T {
    return this.sqlite.transaction(fn).immediate();
  }

  listKeys(): KeyRecord[] {
    return listKeys(this.sqlite);
  }

  findKey(label: string): KeyRecord | undefined {
    return findKey(this.sqlite, label);
  }

  findKeyByPublicKey(publicKeyHex: string): KeyRecord | undefined {
    return findKeyByPublicKey(this.sqlite, publicKeyHex);
  }

  /** Highest applied migration. */
  schemaVersion(): number {
    return schemaVersionOf(this.sqlite);
  }

  close(): void {
    if (this.sqlite.open) this.sqlite.close();
  }
}

/** Opens (creating if absent) the database at `path` and brings its schema up to date. */
export function openDatabase(path: string, migrations: readonly Migration[] = MIGRATIONS): ColdsignDb {
  let sqlite: Sqlite;
  try {
    sqlite = new Database(path, sqliteBinding());
  } catch (error) {
    throw (
      storageFailure(error) ??
      makeError('STORE_CORRUPT', 'The coldsign database cannot be opened.', {}, error)
    );
  }
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    migrate(sqlite, migrations);
    checkSchema(sqlite, expectedSchema(migrations));
    return new ColdsignDb(sqlite, path);
  } catch (error) {
    sqlite.close();
    const storage = storageFailure(error);
    if (storage) throw storage;
    if (error instanceof Error && 'code' in error && String(error.code).startsWith('SQLITE_')) {
      throw makeError(
        'STORE_CORRUPT',
        'The coldsign database is damaged or is not a coldsign database.',
        {},
        error,
      );
    }
    throw error;
  }
}

/**
 * Opens the database of a home on read-only media, for commands that only read. SQLite cannot open a
 * WAL database read-only without its -shm file, so the file is read into memory with the header's
 * read/write version bytes (offsets 18 and 19, SQLite "Database File Format" §1.3) set back to 1
 * (rollback journal): a read-only snapshot of the last committed state. Writes fail (HOME_READ_ONLY).
 */
export function openDatabaseSnapshot(
  path: string,
  migrations: readonly Migration[] = MIGRATIONS,
): ColdsignDb {
  let sqlite: Sqlite;
  try {
    const bytes = readFileSync(path);
    if (bytes.length >= 20) bytes[18] = bytes[19] = 1;
    sqlite = new Database(bytes, { readonly: true, ...sqliteBinding() });
    const current = schemaVersionOf(sqlite);
    if (current !== (migrations.at(-1)?.version ?? 0)) {
      sqlite.close();
      throw makeError(
        'HOME_READ_ONLY',
        'The coldsign home is read-only and its database needs an upgrade first: make it writable once.',
      );
    }
    try {
      checkSchema(sqlite, expectedSchema(migrations));
    } catch (error) {
      sqlite.close();
      throw error;
    }
  } catch (error) {
    if (isColdsignError(error)) throw error;
    throw (
      storageFailure(error) ??
      makeError('STORE_CORRUPT', 'The coldsign database cannot be opened.', {}, error)
    );
  }
  return new ColdsignDb(sqlite, path);
}

/**
 * Opens an existing database for reading only (no migration, no write, no checkpoint on close), for commands that
 * only look (`hsm info`). Where SQLite cannot read a WAL database in place (read-only media without its -shm file)
 * or the schema is not this version's, it falls back to openDatabaseSnapshot (which says what to do).
 */
export function openDatabaseReadOnly(
  path: string,
  migrations: readonly Migration[] = MIGRATIONS,
): ColdsignDb {
  let sqlite: Sqlite | undefined;
  try {
    sqlite = new Database(path, { readonly: true, fileMustExist: true, ...sqliteBinding() });
    sqlite.pragma('busy_timeout = 5000');
    if (schemaVersionOf(sqlite) === (migrations.at(-1)?.version ?? 0)) {
      checkSchema(sqlite, expectedSchema(migrations));
      return new ColdsignDb(sqlite, path);
    }
  } catch (error) {
    if (isColdsignError(error)) {
      sqlite?.close();
      throw error;
    }
    // read in place failed: the snapshot below reads the file itself
  }
  sqlite?.close();
  return openDatabaseSnapshot(path, migrations);
}

function schemaVersionOf(sqlite: Sqlite): number {
  const row = sqlite.prepare('SELECT MAX(version) AS version FROM schema_version').get() as {
    version: number | null;
  };
  return row.version ?? 0;
}

/**
 * The structure a home opened with `migrations` must have: this version's, recorded in store/schema-structure.ts
 * (making it at every start would cost a few milliseconds), or, for another list, that of a new in-memory database
 * taken through it.
 */
function expectedSchema(migrations: readonly Migration[]): readonly SchemaObject[] {
  return migrations === MIGRATIONS ? SCHEMA_STRUCTURE : migratedSchema(migrations);
}

/** The structure of a new in-memory database taken through `migrations` (scripts/schema-structure.ts records it). */
export function migratedSchema(migrations: readonly Migration[] = MIGRATIONS): SchemaObject[] {
  const sqlite = new Database(':memory:', sqliteBinding());
  try {
    migrate(sqlite, migrations);
    return schemaOf(sqlite);
  } finally {
    sqlite.close();
  }
}

/** Applies every migration above the current version, each in its own transaction. */
function migrate(sqlite: Sqlite, migrations: readonly Migration[]): void {
  // Migration 4 files each signed outpoint under its bucket of the ledger's index.
  sqlite.function('coldsign_outpoint_bucket', { deterministic: true }, (outpoint: unknown) =>
    outpointBucket(typeof outpoint === 'string' ? outpoint : ''),
  );
  sqlite.exec(
    'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL) STRICT',
  );
  const current = schemaVersionOf(sqlite);
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw makeError(
      'STORE_SCHEMA_UNSUPPORTED',
      `The database has schema version ${current}, newer than this coldsign (${latest}); upgrade coldsign.`,
      { current, latest },
    );
  }
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    sqlite
      .transaction(() => {
        sqlite.exec(migration.sql);
        sqlite
          .prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)')
          .run(migration.version, new Date().toISOString());
      })
      .immediate();
  }
}
