/**
 * Loads a PKCS#11 module once per process and per path, with C_Initialize tolerant of
 * CKR_CRYPTOKI_ALREADY_INITIALIZED and C_Finalize when the last user releases it.
 */
import { existsSync } from 'node:fs';
import pkcs11js from 'pkcs11js';
import { makeError } from '../core/errors.js';
import { ckrOf, pkcs11Error } from './pkcs11-errors.js';

interface LoadedModule {
  pkcs11: pkcs11js.PKCS11;
  users: number;
}

const loaded = new Map<string, LoadedModule>();

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

/** Acquires the initialized module at `path`; pair every call with releaseModule(path). */
export function acquireModule(path: string): pkcs11js.PKCS11 {
  const existing = loaded.get(path);
  if (existing) {
    existing.users += 1;
    return existing.pkcs11;
  }
  if (!existsSync(path)) {
    throw makeError('HSM_MODULE_NOT_FOUND', `The PKCS#11 module ${path} does not exist.`, { module: path });
  }
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
  loaded.set(path, { pkcs11, users: 1 });
  return pkcs11;
}

export function releaseModule(path: string): void {
  const entry = loaded.get(path);
  if (!entry) return;
  entry.users -= 1;
  if (entry.users > 0) return;
  loaded.delete(path);
  try {
    entry.pkcs11.C_Finalize();
  } catch {
    // finalizing an already finalized library is harmless
  } finally {
    closeQuietly(entry.pkcs11);
  }
}

function closeQuietly(pkcs11: pkcs11js.PKCS11): void {
  try {
    pkcs11.close();
  } catch {
    // the library was not loaded
  }
}
