/**
 * What `coldsign backup` writes and `coldsign restore` reads: one SQLite file holding a consistent online
 * backup of coldsign.db (SQLite's backup API, through better-sqlite3) plus a table `coldsign_backup` with
 * config.json, the anchor record file `coldsign.db-anchor.json` (the pinned checkpoint and its HSM HMAC,
 * store/audit-hsm.ts) and, for the embedded token, the SoftHSM2 token files. The writer lock is held while
 * the backup is taken, so the anchor records, the token files and the database are from the same moment.
 * See docs/operations.md: restoring an embedded token rolls the anti-rollback anchor back with it.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { makeError, storageFailure } from '../core/errors.js';
import { openDatabase } from '../store/database.js';
import { auditHead } from '../store/audit.js';
import { isInitialized, resolveHome } from '../store/home.js';
import { withWriterHome } from './writer-home.js';

const BACKUP_TABLE = 'coldsign_backup';
const TOKEN_DIR = 'softhsm-tokens';

/** The anchor record file beside the database (store/audit-hsm.ts: `<database>-anchor.json`). */
function anchorRecordPath(databasePath: string): string {
  return `${databasePath}-anchor.json`;
}

export const ROLLBACK_NOTE =
  'NOTE: this backup holds the embedded token too. Restoring it restores the anti-rollback anchor of the same moment: everything signed after the backup disappears from the log without an alarm. Compare the audit head shown with your latest audit export before and after any restore.';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}

/** What a backup holds: the home it came from, the audit head of its database, and whether the token is in it. */
export interface BackupReport {
  home: string;
  file: string;
  audit: { seq: number; hash: string };
  embeddedToken: boolean;
}

/**
 * Writes a backup of the home to `out` (the caller has checked the path), under the home's writer lock;
 * `onWait` is told when another process holds the lock.
 */
export async function backupHome(out: string, onWait: () => void): Promise<BackupReport> {
  // A backup needs no PIN and writes nothing in the home; it holds the writer lock so nothing changes meanwhile.
  return withWriterHome({ onWait }, async ({ home, config }) => {
    const temporary = join(dirname(out), `.${basename(out)}.${process.pid}.tmp`);
    let head: { seq: number; hash: string };
    try {
      const anchorPath = anchorRecordPath(home.databasePath);
      let anchorRecords: Buffer | undefined;
      const db = openDatabase(home.databasePath);
      try {
        head = auditHead(db);
        await db.sqlite.backup(temporary);
        // Read under the same writer lock as the database: the anchor records name the checkpoint the
        // HSM anchored, and only a record of the same moment as the database lets the restored home verify.
        if (existsSync(anchorPath)) anchorRecords = readFileSync(anchorPath);
      } finally {
        db.close();
      }
      const copy = new Database(temporary);
      try {
        copy.exec(`CREATE TABLE ${BACKUP_TABLE} (name TEXT PRIMARY KEY, content BLOB NOT NULL) STRICT`);
        const insert = copy.prepare(`INSERT INTO ${BACKUP_TABLE} (name, content) VALUES (?, ?)`);
        insert.run('config.json', readFileSync(home.configPath));
        if (anchorRecords) insert.run(relative(home.dir, anchorPath), anchorRecords);
        if (config.hsm.embedded)
          for (const path of filesUnder(join(home.dir, TOKEN_DIR)))
            insert.run(relative(home.dir, path), readFileSync(path));
        copy.pragma('journal_mode = DELETE');
      } finally {
        copy.close();
      }
      renameSync(temporary, out);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw storageFailure(error) ?? error;
    }
    return { home: home.dir, file: out, audit: head, embeddedToken: config.hsm.embedded };
  });
}

/** What a restore made: the new home, its audit head, and whether the token and the anchor records came back. */
export interface RestoreReport {
  home: string;
  audit: { seq: number; hash: string };
  embeddedToken: boolean;
  anchorRecords: boolean;
}

/** Restores the backup `file` into the (new, empty) home of COLDSIGN_HOME. */
export async function restoreHome(file: string): Promise<RestoreReport> {
  const home = resolveHome();
  if (isInitialized(home) || (existsSync(home.dir) && readdirSync(home.dir).length > 0))
    throw makeError(
      'HOME_ALREADY_INITIALIZED',
      `${home.dir} is not empty; restore into a new COLDSIGN_HOME (nothing was changed).`,
    );
  let files: Array<{ name: string; content: Buffer }>;
  try {
    const backup = new Database(file, { readonly: true, fileMustExist: true });
    try {
      files = backup.prepare(`SELECT name, content FROM ${BACKUP_TABLE}`).all() as typeof files;
    } finally {
      backup.close();
    }
  } catch (error) {
    throw makeError('INPUT_UNRECOGNIZED', `${file} is not a coldsign backup.`, {}, error);
  }
  // Built next to the home and renamed into place, like init: an interrupted restore leaves no home.
  const staging = `${home.dir}.restore-${process.pid}`;
  let head: { seq: number; hash: string };
  try {
    mkdirSync(staging, { recursive: true, mode: 0o700 });
    for (const { name, content } of files) {
      const target = join(staging, name);
      const inside = relative(staging, target);
      if (inside.startsWith('..') || isAbsolute(inside))
        throw makeError('INPUT_UNRECOGNIZED', `${file} names a file outside the home.`);
      mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
      writeFileSync(target, content, { mode: 0o600 });
    }
    copyFileSync(file, join(staging, 'coldsign.db'));
    const restored = new Database(join(staging, 'coldsign.db'));
    try {
      restored.exec(`DROP TABLE ${BACKUP_TABLE}`);
    } finally {
      restored.close();
    }
    const db = openDatabase(join(staging, 'coldsign.db'));
    try {
      head = auditHead(db);
    } finally {
      db.close();
    }
    if (existsSync(home.dir)) rmSync(home.dir, { recursive: true });
    renameSync(staging, home.dir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw storageFailure(error) ?? error;
  }
  const embedded = files.some((f) => f.name.startsWith(`${TOKEN_DIR}/`));
  const anchorRecords = files.some((f) => f.name === relative(home.dir, anchorRecordPath(home.databasePath)));
  return { home: home.dir, audit: head, embeddedToken: embedded, anchorRecords };
}
