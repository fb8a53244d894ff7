import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isColdsignError } from '../../core/errors.js';
import type { KeyRecord } from '../../core/signer.js';
import { openDatabase, type ColdsignDb } from '../../store/database.js';
import { assertKeyIsNew } from '../../store/keys.js';
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
});

describe('the SQLite addon', () => {
  it('is loaded by its resolved path, not looked up by the bindings package at every start-up', () => {
    const { nativeBinding } = sqliteBinding();
    expect(nativeBinding).toMatch(/better-sqlite3[\\/]build[\\/]Release[\\/]better_sqlite3\.node$/);
    expect(existsSync(nativeBinding!)).toBe(true);
  });
});
