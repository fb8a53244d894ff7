/**
 * A home that cannot be written: a read-only mount and a full disk each end in their own code and sentence
 * (exit 7), reading commands keep working, and nothing is lost. A database with a damaged page is an integrity
 * failure (exit 6, STORE_CORRUPT) for every command that meets the page, never an internal error. The tests run as root, which ignores file
 * modes, so the read-only home is a read-only bind mount and the full disk a 2 MB tmpfs, both made here.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createCliHome, type CliHome } from '../support/cli.js';
import { errorCode } from './home-fixture.js';

const mounts: string[] = [];
const mount = (...args: string[]) => execFileSync('mount', args);
afterAll(() => {
  for (const point of mounts.reverse()) execFileSync('umount', [point]);
});

describe('a read-only home', () => {
  let cli: CliHome;
  beforeAll(() => {
    cli = createCliHome();
    expect(cli.run(['init']).code).toBe(0);
    expect(cli.run(['keys', 'generate', '--chain', 'evm', '--label', 'vault-eth']).code).toBe(0);
    const dir = cli.env.COLDSIGN_HOME!;
    mount('--bind', dir, dir);
    mounts.push(dir);
    mount('-o', 'remount,ro,bind', dir);
  });
  afterAll(() => {
    execFileSync('umount', [mounts.pop()!]);
    cli.cleanup();
  });

  it('reading commands work: keys list, policy show, audit export', () => {
    const keys = cli.run(['keys', 'list', '--json']);
    expect(keys.code, keys.stderr).toBe(0);
    expect(keys.json<{ keys: Array<{ label: string }> }>().keys[0]!.label).toBe('vault-eth');
    expect(cli.run(['policy', 'show']).code).toBe(0);
    const exported = cli.run(['audit', 'export', '--out', join(cli.dir, 'audit.jsonl')]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(cli.run(['audit', 'verify', '--file', join(cli.dir, 'audit.jsonl')]).code).toBe(0);
  });

  it('a writing command exits 7 with HOME_READ_ONLY and says what to do', () => {
    const result = cli.run(['keys', 'generate', '--chain', 'evm', '--label', 'another', '--json']);
    expect(result.code).toBe(7);
    expect(errorCode(result.stdout)).toBe('HOME_READ_ONLY');
    expect(result.stderr).toContain('make it writable');
  });
});

describe('a full disk', () => {
  let cli: CliHome;
  let disk: string;
  beforeAll(() => {
    disk = mkdtempSync(join(tmpdir(), 'coldsign-full-'));
    mount('-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', disk);
    mounts.push(disk);
    cli = createCliHome();
    cli.env.COLDSIGN_HOME = join(disk, 'home');
    expect(cli.run(['init']).code).toBe(0);
    expect(cli.run(['keys', 'generate', '--chain', 'evm', '--label', 'vault-eth']).code).toBe(0);
  });
  afterAll(() => {
    execFileSync('umount', [mounts.pop()!]);
    rmSync(disk, { recursive: true, force: true });
    cli.cleanup();
  });

  it('a writer exits 7 with HOME_DISK_FULL; reading works; after space is freed everything verifies', () => {
    const filler = join(disk, 'filler');
    try {
      writeFileSync(filler, Buffer.alloc(4 * 1024 * 1024));
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC'); // the disk is now full
    }
    const result = cli.run(['keys', 'generate', '--chain', 'evm', '--label', 'more', '--json']);
    expect(result.code).toBe(7);
    expect(errorCode(result.stdout)).toBe('HOME_DISK_FULL');
    expect(result.stderr).toContain('free some space');
    const keys = cli.run(['keys', 'list', '--json']);
    expect(keys.code, keys.stderr).toBe(0);
    rmSync(filler);
    const verify = cli.run(['audit', 'verify']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(cli.run(['keys', 'generate', '--chain', 'evm', '--label', 'more']).code).toBe(0);
  });
});

/**
 * Gives pages of the home's audit log a b-tree page header SQLite cannot read: every page, or only the leftmost
 * leaf (the oldest entries, which start-up does not read). The WAL is checkpointed into the file first.
 */
function damageAuditLog(cli: CliHome, which: 'every page' | 'oldest leaf'): void {
  const file = join(cli.env.COLDSIGN_HOME!, 'coldsign.db');
  const db = new Database(file);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db
    .prepare("SELECT pageno FROM dbstat WHERE name = 'audit_log' AND (? OR pagetype = 'leaf') ORDER BY path")
    .pluck()
    .all(which === 'every page' ? 1 : 0) as number[];
  db.close();
  expect(pages.length).toBeGreaterThan(which === 'every page' ? 0 : 2);
  const fd = openSync(file, 'r+');
  for (const page of which === 'every page' ? pages : pages.slice(0, 1))
    writeSync(fd, Buffer.alloc(16, 0xee), 0, 16, (page - 1) * pageSize);
  closeSync(fd);
}

describe('a database with a damaged page', () => {
  let cli: CliHome;
  beforeEach(() => {
    cli = createCliHome();
    expect(cli.run(['init']).code).toBe(0);
    const pool = cli.run(['keys', 'generate', '--chain', 'evm', '--label', 'vault-eth', '--count', '24']);
    expect(pool.code, pool.stderr).toBe(0);
  });
  afterEach(() => cli.cleanup());

  const expectDamaged = (args: string[]) => {
    const result = cli.run([...args, '--json']);
    expect(result.code, result.stderr).toBe(6);
    expect(errorCode(result.stdout)).toBe('STORE_CORRUPT');
    expect(result.stderr).toMatch(
      /^coldsign: The coldsign database is damaged \(SQLite: [^\n]+\): restore the home/,
    );
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  };

  it('audit verify that meets a damaged page of old entries says so (not an internal error, not a busy connection)', () => {
    const lastResult = () => {
      const db = new Database(join(cli.env.COLDSIGN_HOME!, 'coldsign.db'), { readonly: true });
      const value = db
        .prepare("SELECT value FROM settings WHERE name = 'audit.lastFullVerifyResult'")
        .pluck()
        .get() as string;
      db.close();
      return JSON.parse(value) as { ok: boolean };
    };
    expect(cli.run(['audit', 'verify']).code).toBe(0);
    expect(lastResult().ok).toBe(true);
    damageAuditLog(cli, 'oldest leaf');
    expectDamaged(['audit', 'verify']);
    // the recorded outcome (what hsm info and the app show) is now a failure, not the success before the damage
    expect(lastResult().ok).toBe(false);
  });

  it('a command whose start-up reads a damaged page refuses with the same code, and nothing is added', () => {
    damageAuditLog(cli, 'every page');
    expectDamaged(['keys', 'generate', '--chain', 'evm', '--label', 'another']);
    const db = new Database(join(cli.env.COLDSIGN_HOME!, 'coldsign.db'), { readonly: true });
    const labels = db.prepare("SELECT label FROM keys WHERE label = 'another'").pluck().all();
    db.close();
    expect(labels).toEqual([]);
  });
});

describe('a database whose structure was changed outside coldsign', () => {
  let cli: CliHome;
  beforeEach(() => {
    cli = createCliHome();
    expect(cli.run(['init']).code).toBe(0);
  });
  afterEach(() => cli.cleanup());

  it('a trigger added to rewrite what coldsign writes is refused at open, in one sentence, before anything is written', () => {
    const file = join(cli.env.COLDSIGN_HOME!, 'coldsign.db');
    const raw = new Database(file);
    const entries = () => raw.prepare('SELECT COUNT(*) FROM audit_log').pluck().get() as number;
    const before = entries();
    raw.exec(
      "CREATE TRIGGER relabel AFTER INSERT ON keys BEGIN UPDATE keys SET label = 'cold' WHERE rowid = NEW.rowid; END;",
    );
    for (const args of [
      ['keys', 'generate', '--chain', 'evm', '--label', 'hot'],
      ['hsm', 'info'],
    ]) {
      const result = cli.run([...args, '--json']);
      expect(result.code, result.stderr).toBe(6);
      expect(errorCode(result.stdout)).toBe('STORE_CORRUPT');
      expect(result.stderr).toMatch(
        /^coldsign: The coldsign database's structure was changed outside coldsign \(the trigger relabel is not part of it\): restore the home/,
      );
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(entries()).toBe(before);
    raw.close();
  });
});
