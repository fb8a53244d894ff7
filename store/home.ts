/**
 * COLDSIGN_HOME (default ~/.coldsign) and its config.json. Nothing outside the home is touched but the lock
 * `init` takes beside a home it is about to create.
 * PKCS#11 module and token come from config.json, overridable by COLDSIGN_PKCS11_MODULE and COLDSIGN_TOKEN.
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { sqliteBinding } from './sqlite-addon.js';
import { z } from 'zod';
import { isColdsignError, makeError, storageFailure } from '../core/errors.js';
import { parseJsonStrict } from '../core/json.js';
import { writeFileAtomic } from './atomic-file.js';

export const DEFAULT_TOKEN_LABEL = 'coldsign';

const configSchema = z
  .object({
    version: z.literal(1),
    hsm: z
      .object({
        module: z.string().min(1),
        token: z.string().min(1).max(32),
        /** True for the embedded SoftHSM2 token inside the home. */
        embedded: z.boolean(),
        /** HSM profile override (docs/hsm.md "Profiles"); detected from the token info when absent. */
        profile: z.enum(['softhsm2', 'cloudhsm', 'generic']).optional(),
        /** Slot id (CloudHSM: one slot per configured cluster) or token serial, to pick the token. */
        slot: z.number().int().nonnegative().optional(),
        serial: z.string().min(1).max(16).optional(),
      })
      .strict(),
    createdAt: z.string(),
  })
  .strict();

export type ColdsignConfig = z.infer<typeof configSchema>;

export interface Home {
  dir: string;
  /** True when COLDSIGN_HOME named it (a missing named home is a mistyped path, not a first start). */
  named?: boolean;
  configPath: string;
  databasePath: string;
}

export function resolveHome(env: NodeJS.ProcessEnv = process.env): Home {
  const dir = resolve(env.COLDSIGN_HOME || join(homedir(), '.coldsign'));
  return {
    dir,
    named: Boolean(env.COLDSIGN_HOME),
    configPath: join(dir, 'config.json'),
    databasePath: join(dir, 'coldsign.db'),
  };
}

export function isInitialized(home: Home): boolean {
  return existsSync(home.configPath);
}

export function readConfig(home: Home, env: NodeJS.ProcessEnv = process.env): ColdsignConfig {
  if (home.named && !existsSync(home.dir)) {
    throw makeError(
      'HOME_NOT_FOUND',
      `The coldsign home ${home.dir} (COLDSIGN_HOME) does not exist: check the path. (\`coldsign init\` would create a new, separate appliance there.)`,
      { home: home.dir },
    );
  }
  if (!existsSync(home.configPath)) {
    throw makeError(
      'HOME_NOT_INITIALIZED',
      `${home.dir} is not a coldsign home yet: run \`coldsign init\` first.`,
      {
        home: home.dir,
      },
    );
  }
  const parsed = parseJsonStrict(readFileSync(home.configPath, 'utf8'), home.configPath, 'CONFIG_INVALID');
  const result = configSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw makeError(
      'CONFIG_INVALID',
      `${home.configPath} is invalid at ${issue?.path.join('.') || 'top level'}: ${issue?.message}.`,
    );
  }
  const config = result.data;
  if (env.COLDSIGN_PKCS11_MODULE)
    config.hsm = { ...config.hsm, module: env.COLDSIGN_PKCS11_MODULE, embedded: false };
  if (env.COLDSIGN_TOKEN) config.hsm = { ...config.hsm, token: env.COLDSIGN_TOKEN };
  return config;
}

export function writeConfig(home: Home, config: ColdsignConfig): void {
  mkdirSync(home.dir, { recursive: true, mode: 0o700 });
  writeFileAtomic(home.configPath, `${JSON.stringify(config, null, 2)}\n`);
}

/** False when the home cannot be written (read-only mount, permissions): only reading commands can run. */
export function isHomeWritable(home: Home): boolean {
  try {
    accessSync(home.dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Seconds a second writer waits for the home before giving up (COLDSIGN_LOCK_WAIT overrides). */
const DEFAULT_LOCK_WAIT_SECONDS = 5;

export interface HomeLock {
  release(): void;
}

/**
 * The writer lock of a home: an EXCLUSIVE transaction held open on the file coldsign.lock (SQLite's own
 * POSIX advisory locks), so the operating system releases it when the process ends, even by kill -9.
 * Only one writer at a time; readers take no lock (WAL gives them a consistent snapshot). A second
 * writer says it is waiting, waits up to COLDSIGN_LOCK_WAIT seconds, then fails with HOME_BUSY (exit 7).
 */
export function acquireHomeLock(
  home: Home,
  onWait: () => void = () => {},
  env: NodeJS.ProcessEnv = process.env,
): HomeLock {
  const lock = lockFile(join(home.dir, 'coldsign.lock'), home, onWait, env);
  removeStaleInitLock(home);
  return lock;
}

function initLockPath(home: Home): string {
  return join(dirname(home.dir), `.${basename(home.dir)}.init.lock`);
}

/**
 * Removes the init lock file an init killed after its rename left beside a whole home, unless a running init still
 * holds it (its lock is released by the operating system when it dies, so a lock taken here has no owner).
 */
export function removeStaleInitLock(home: Home): void {
  const path = initLockPath(home);
  if (!existsSync(path)) return;
  let lock: Database.Database | undefined;
  try {
    lock = new Database(path, { fileMustExist: true, ...sqliteBinding() });
    lock.pragma('busy_timeout = 0');
    lock.exec('BEGIN EXCLUSIVE');
  } catch {
    lock?.close(); // held by a running init (or unreadable): left as it is
    return;
  }
  try {
    // with the rollback journal a killed holder may leave beside it
    for (const file of [path, `${path}-journal`]) rmSync(file, { force: true });
  } finally {
    lock.close();
  }
}

/**
 * The lock `init` holds while it builds a home that does not exist yet: `.<home name>.init.lock` beside the home
 * (removed at release). Two `init`s of one home, or of
 * homes on one external token, then run one after the other; the second finds the home made and refuses.
 */
export function acquireInitLock(
  home: Home,
  onWait: () => void = () => {},
  env: NodeJS.ProcessEnv = process.env,
): HomeLock {
  const parent = dirname(home.dir);
  mkdirSync(parent, { recursive: true });
  const path = initLockPath(home);
  const lock = lockFile(path, home, onWait, env);
  // Removed while still held, so init leaves nothing behind (a third init racing the removal is not excluded).
  return {
    release: () => {
      rmSync(path, { force: true });
      lock.release();
    },
  };
}

function lockFile(path: string, home: Home, onWait: () => void, env: NodeJS.ProcessEnv): HomeLock {
  const waitSeconds = Number(env.COLDSIGN_LOCK_WAIT ?? DEFAULT_LOCK_WAIT_SECONDS);
  const wait =
    Number.isFinite(waitSeconds) && waitSeconds >= 0 ? Math.min(waitSeconds, 600) : DEFAULT_LOCK_WAIT_SECONDS;
  let lock: Database.Database;
  try {
    lock = new Database(path, sqliteBinding());
    lock.pragma('busy_timeout = 0');
  } catch (error) {
    throw storageFailure(error) ?? error;
  }
  const tryLock = (): boolean => {
    try {
      lock.exec('BEGIN EXCLUSIVE');
      return true;
    } catch (error) {
      if (isColdsignError(storageFailure(error), 'HOME_BUSY')) return false;
      lock.close();
      throw storageFailure(error) ?? error;
    }
  };
  if (!tryLock()) {
    onWait();
    lock.pragma(`busy_timeout = ${Math.round(wait * 1000)}`);
    if (!tryLock()) {
      lock.close();
      throw makeError(
        'HOME_BUSY',
        `busy: another coldsign process is using this home (${home.dir}); run the command again when it has finished.`,
        { home: home.dir },
      );
    }
  }
  return { release: () => lock.close() };
}
