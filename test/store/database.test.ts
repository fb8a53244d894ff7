import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isColdsignError } from '../../core/errors.js';
import type { KeyRecord } from '../../core/signer.js';
import Database from 'better-sqlite3';
import {
  openDatabase,
  openDatabaseReadOnly,
  openDatabaseSnapshot,
  migratedSchema,
  type ColdsignDb,
} from '../../store/database.js';
import { SCHEMA_STRUCTURE } from '../../store/schema-structure.js';
import { assertKeyIsNew } from '../../store/keys.js';
import { replaceInIndexPages } from '../support/index-pages.js';
import { applyRows, emptyHeads, projectEntry } from '../../store/state.js';
import { MIGRATIONS } from '../../store/migrations.js';
import { sqliteBinding } from '../../store/sqlite-addon.js';
import { LedgerIndex, outpointBucket } from '../../store/outpoint-ledger.js';

const vault: KeyRecord = {
  label: 'vault-1',
  chain: 'btc',
  publicKey: '02' + 'ab'.repeat(32),
  keyId: 'cd'.repeat(20),
  address: 'bc1qexample',
  network: 'mainnet',
  script: 'p2wpkh',
  descriptor: `wpkh(02${'ab'.repeat(32)})`,
  createdAt: '2026-01-01T00:00:00.000Z',
};

const treasury: KeyRecord = {
  label: 'treasury',
  chain: 'evm',
  publicKey: '04' + 'ef'.repeat(64),
  keyId: '01'.repeat(20),
  address: '0x' + '12'.repeat(20),
  createdAt: '2026-01-02T00:00:00.000Z',
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'coldsign-db-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('openDatabase', () => {
  it('creates a WAL database with synchronous=FULL, foreign keys and the latest schema', () => {
    const db = openDatabase(join(dir, 'coldsign.db'));
    expect(db.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.sqlite.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.schemaVersion()).toBe(MIGRATIONS.at(-1)?.version);
    db.close();
  });

  it('applies only the new migrations when reopened with a longer list', () => {
    const path = join(dir, 'coldsign.db');
    openDatabase(path).close();
    const extra = [
      ...MIGRATIONS,
      { version: 99, description: 'test', sql: 'CREATE TABLE extra (x INTEGER) STRICT;' },
    ];
    const db = openDatabase(path, extra);
    expect(db.schemaVersion()).toBe(99);
    expect(db.sqlite.prepare('SELECT COUNT(*) AS n FROM schema_version').get()).toEqual({
      n: MIGRATIONS.length + 1,
    });
    db.close();
  });

  it('files the outpoints signed before the ledger index under their buckets when upgrading', () => {
    const path = join(dir, 'coldsign.db');
    const older = openDatabase(
      path,
      MIGRATIONS.filter((m) => m.version <= 3),
    );
    const insert = older.sqlite.prepare(
      "INSERT INTO outpoints (seq, pos, outpoint, link) VALUES (?, 0, ?, '00')",
    );
    insert.run(1, `${'ab'.repeat(32)}:0`);
    insert.run(2, `${'cd'.repeat(32)}:1`);
    older.close();
    const db = openDatabase(path);
    const rows = db.sqlite.prepare('SELECT outpoint, bucket FROM outpoints ORDER BY seq').all() as Array<{
      outpoint: string;
      bucket: number;
    }>;
    expect(rows.map((r) => r.bucket)).toEqual(rows.map((r) => outpointBucket(r.outpoint)));
    expect(new Set(rows.map((r) => r.bucket)).size).toBe(2);
    db.close();
  });

  it('refuses a database whose schema is newer than this program', () => {
    const path = join(dir, 'coldsign.db');
    openDatabase(path, [...MIGRATIONS, { version: 50, description: 'future', sql: 'SELECT 1;' }]).close();
    expect(() => openDatabase(path)).toThrow(expect.objectContaining({ code: 'STORE_SCHEMA_UNSUPPORTED' }));
  });

  it('refuses a file that is not a SQLite database with STORE_CORRUPT', () => {
    const path = join(dir, 'coldsign.db');
    writeFileSync(
      path,
      'this is not a database, just some text that is long enough to look like a header '.repeat(20),
    );
    try {
      openDatabase(path);
      expect.unreachable();
    } catch (error) {
      expect(isColdsignError(error, 'STORE_CORRUPT')).toBe(true);
    }
  });
});

describe('the database structure check at open', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'coldsign-schema-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // Each edit an attacker with the file could make to the structure (not the rows), and the object it names.
  const edits: Record<string, { sql: string; names: RegExp }> = {
    "a trigger that would run inside coldsign's own writes": {
      sql: 'CREATE TRIGGER forget AFTER INSERT ON outpoints BEGIN DELETE FROM outpoints WHERE seq = NEW.seq; END;',
      names: /the trigger forget is not part of it/,
    },
    'a dropped index': {
      sql: 'DROP INDEX outpoints_by_bucket;',
      names: /the index outpoints_by_bucket is missing/,
    },
    'a dropped column': {
      sql: 'ALTER TABLE velocity DROP COLUMN txid;',
      names: /the table velocity is not defined as this version defines it/,
    },
    'a table rebuilt without STRICT': {
      sql: `ALTER TABLE settings RENAME TO settings_strict;
            CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
            INSERT INTO settings SELECT * FROM settings_strict; DROP TABLE settings_strict;`,
      names: /the table settings is not defined as this version defines it/,
    },
    'an added view': {
      sql: 'CREATE VIEW everything AS SELECT * FROM audit_log;',
      names: /the view everything is not part of it/,
    },
  };
  for (const [edit, { sql, names }] of Object.entries(edits)) {
    it(`refuses ${edit} with STORE_CORRUPT naming it, for writing and for reading`, () => {
      const path = join(dir, 'coldsign.db');
      openDatabase(path).close();
      const raw = new Database(path);
      raw.exec(sql);
      raw.pragma('wal_checkpoint(TRUNCATE)');
      raw.close();
      for (const open of [openDatabase, openDatabaseReadOnly, openDatabaseSnapshot]) {
        try {
          open(path).close();
          expect.unreachable(`${open.name} opened it`);
        } catch (error) {
          expect(isColdsignError(error, 'STORE_CORRUPT'), String(error)).toBe(true);
          expect((error as Error).message).toMatch(names);
          expect((error as Error).message).toMatch(
            /^The coldsign database's structure was changed outside coldsign \(/,
          );
        }
      }
    });
  }

  it('the structure recorded for this version is what its migrations make (after a new migration: npx tsx scripts/schema-structure.ts)', () => {
    expect(SCHEMA_STRUCTURE).toEqual(migratedSchema());
    expect(SCHEMA_STRUCTURE.map(([name]) => name)).toEqual(
      expect.arrayContaining(['audit_log', 'outpoints']),
    );
  });

  it('a home taken through every migration from the first has the structure of a new home', () => {
    const path = join(dir, 'coldsign.db');
    for (let upTo = 1; upTo <= MIGRATIONS.length; upTo += 1)
      openDatabase(path, MIGRATIONS.slice(0, upTo)).close();
    const fresh = join(dir, 'fresh.db');
    openDatabase(fresh).close();
    const schema = (file: string) => {
      const db = new Database(file, { readonly: true });
      const rows = db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name').all();
      db.close();
      return rows;
    };
    expect(schema(path)).toEqual(schema(fresh));
  });
});

/** Registers a key the way the auditor's unit of work does: the projection of a "key.registered" entry. */
let seq = 0;
function register(db: ColdsignDb, record: KeyRecord): void {
  assertKeyIsNew(db.sqlite, record);
  seq += 1;
  const entry = { seq, time: record.createdAt, type: 'key.registered', payload: JSON.stringify(record) };
  applyRows(db.sqlite, projectEntry(entry), emptyHeads(), LedgerIndex.empty());
}

describe('key registry (the projection of key.registered entries)', () => {
  it('adds, lists and finds keys by label and public key', () => {
    const db = openDatabase(join(dir, 'coldsign.db'));
    register(db, vault);
    register(db, treasury);
    expect(db.listKeys()).toEqual([vault, treasury]);
    expect(db.findKey('treasury')).toEqual(treasury);
    expect(db.findKey('nope')).toBeUndefined();
    expect(db.findKeyByPublicKey(vault.publicKey.toUpperCase())).toEqual(vault);
    db.close();
  });

  it('keeps keys across reopen', () => {
    const path = join(dir, 'coldsign.db');
    const db = openDatabase(path);
    register(db, vault);
    db.close();
    const again = openDatabase(path);
    expect(again.findKey('vault-1')).toEqual(vault);
    again.close();
  });

  it('refuses a taken label or an already registered public key with KEY_LABEL_TAKEN', () => {
    const db = openDatabase(join(dir, 'coldsign.db'));
    register(db, vault);
    expect(() => register(db, { ...treasury, label: 'vault-1' })).toThrow(
      expect.objectContaining({ code: 'KEY_LABEL_TAKEN' }),
    );
    expect(() => register(db, { ...vault, label: 'other' })).toThrow(
      expect.objectContaining({ code: 'KEY_LABEL_TAKEN' }),
    );
    db.close();
  });

  it('a label and a public key hidden from their indexes by an edit of the pages (below SQL) are still taken', () => {
    const path = join(dir, 'coldsign.db');
    const db = openDatabase(path);
    register(db, vault);
    db.close();
    const hiddenKey = `${vault.publicKey.slice(0, -1)}${vault.publicKey.endsWith('0') ? '1' : '0'}`;
    expect(replaceInIndexPages(path, 'keys_by_label', 'vault-1', 'vault-X')).toBe(1);
    expect(replaceInIndexPages(path, 'keys_by_public_key', vault.publicKey, hiddenKey)).toBe(1);
    const edited = openDatabase(path);
    try {
      // Through the indexes the key is gone; the table still holds it.
      expect(edited.sqlite.prepare("SELECT COUNT(*) FROM keys WHERE label = 'vault-1'").pluck().get()).toBe(
        0,
      );
      expect(
        edited.sqlite.prepare('SELECT COUNT(*) FROM keys WHERE public_key = ?').pluck().get(vault.publicKey),
      ).toBe(0);
      expect(edited.findKey('vault-1')).toEqual(vault);
      expect(() => register(edited, { ...treasury, label: 'vault-1' })).toThrow(
        expect.objectContaining({ code: 'KEY_LABEL_TAKEN' }),
      );
      expect(() => register(edited, { ...vault, label: 'other' })).toThrow(
        expect.objectContaining({ code: 'KEY_LABEL_TAKEN' }),
      );
    } finally {
      edited.close();
    }
  });
});

describe('the SQLite addon', () => {
  it('is loaded by its resolved path, not looked up by the bindings package at every start-up', () => {
    const { nativeBinding } = sqliteBinding();
    expect(nativeBinding).toMatch(/better-sqlite3[\\/]build[\\/]Release[\\/]better_sqlite3\.node$/);
    expect(existsSync(nativeBinding!)).toBe(true);
  });
});
