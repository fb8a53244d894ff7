/**
 * Loads a PKCS#11 library once per process, with C_Initialize tolerant of CKR_CRYPTOKI_ALREADY_INITIALIZED and
 * C_Finalize when the last lease on it is given back. A library is known by its real path: two spellings of
 * one file (a symlink, a relative path) are one library to the dynamic loader and to PKCS#11, so they share one
 * count, and one user's C_Finalize can never end another's sessions. A lease is given back once.
 */
import { existsSync, realpathSync } from 'node:fs';
import pkcs11js from './pkcs11js.js';
import { makeError } from '../core/errors.js';
import { ckrOf, pkcs11Error } from './pkcs11-errors.js';

interface LoadedModule {
  pkcs11: pkcs11js.PKCS11;
  users: number;
}

/** By real path. */
const loaded = new Map<string, LoadedModule>();

/**
 * The real path each spelling resolved to, kept only while that library is loaded: a loaded library stays mapped
 * and initialized whatever happens to its file, so a further lease through the same spelling needs no file-system
 * look-up. Forgotten when the library is finalized, so a later first lease checks the file again.
 */
const resolved = new Map<string, string>();

/** One user's hold on a loaded library: `pkcs11` stays initialized until every lease is released. */
export interface ModuleLease {
  readonly pkcs11: pkcs11js.PKCS11;
  /** Gives the lease back; the last one finalizes the library (PKCS#11 v2.40 §5.4). Later calls do nothing. */
  release(): void;
}

/**
 * Test seam: a function that wraps the loaded pkcs11js object (the CloudHSM stand-in and the latency
 * injector of test/ and bench/ use it). Never set by the product; set it before the module is acquired.
 */
export type ModuleWrapper = (pkcs11: pkcs11js.PKCS11, path: string) => pkcs11js.PKCS11;
let wrapper: ModuleWrapper | undefined;

/** The same seam for a test preload in a CLI child process (the bundle has its own copy of this module). */
const GLOBAL_WRAPPER = Symbol.for('coldsign.test.pkcs11-wrapper');

function currentWrapper(): ModuleWrapper | undefined {
  return wrapper ?? ((globalThis as Record<symbol, unknown>)[GLOBAL_WRAPPER] as ModuleWrapper | undefined);
}

export function setModuleWrapper(wrap: ModuleWrapper | undefined): void {
  wrapper = wrap;
}

/** Leases the initialized library at `path` (loaded and initialized by the first lease); release it once. */
export function acquireModule(path: string): ModuleLease {
  const known = resolved.get(path);
  const key = known !== undefined && loaded.has(known) ? known : resolveModule(path);
  const entry = loaded.get(key) ?? load(path, key);
  resolved.set(path, key);
  entry.users += 1;
  let held = true;
  return {
    pkcs11: entry.pkcs11,
    release: () => {
      if (!held) return;
      held = false;
      releaseEntry(key, entry);
    },
  };
}

/** The library's real path, or HSM_MODULE_NOT_FOUND when there is no file at `path`. */
function resolveModule(path: string): string {
  if (!existsSync(path)) {
    throw makeError('HSM_MODULE_NOT_FOUND', `The PKCS#11 module ${path} does not exist.`, { module: path });
  }
  return realPath(path);
}

function load(path: string, key: string): LoadedModule {
  const native = new pkcs11js.PKCS11();
  const wrap = currentWrapper();
  const pkcs11 = wrap ? wrap(native, path) : native;
  try {
    pkcs11.load(path);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw makeError('HSM_MODULE_NOT_FOUND', `The PKCS#11 module ${path} could not be loaded (${detail}).`, {
      module: path,
    });
  }
  try {
    // PKCS#11 v2.40 §5.4: CKF_OS_LOCKING_OK lets several threads call the library at once.
    pkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (error) {
    if (ckrOf(error) !== pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
      closeQuietly(pkcs11);
      throw pkcs11Error(error, 'C_Initialize');
    }
  }
  const entry = { pkcs11, users: 0 };
  loaded.set(key, entry);
  return entry;
}

function releaseEntry(key: string, entry: LoadedModule): void {
  entry.users -= 1;
  if (entry.users > 0 || loaded.get(key) !== entry) return;
  loaded.delete(key);
  for (const [spelling, target] of resolved) if (target === key) resolved.delete(spelling);
  try {
    entry.pkcs11.C_Finalize();
  } catch {
    // finalizing an already finalized library is harmless
  } finally {
    closeQuietly(entry.pkcs11);
  }
}

/** Number of leases held on the library at `path` (0 when it is not loaded); tests. */
export function moduleLeases(path: string): number {
  const known = resolved.get(path);
  if (known !== undefined && loaded.has(known)) return loaded.get(known)!.users;
  if (!existsSync(path)) return 0;
  return loaded.get(realPath(path))?.users ?? 0;
}

/** The library's real path (symlinks and relative parts resolved), or the path as given when it cannot be. */
function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function closeQuietly(pkcs11: pkcs11js.PKCS11): void {
  try {
    pkcs11.close();
  } catch {
    // the library was not loaded
  }
}
