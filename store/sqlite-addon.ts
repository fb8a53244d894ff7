/**
 * The path of better-sqlite3's compiled addon, resolved once. Without it, the package finds the addon through the
 * `bindings` package, which reads the call stack and probes a dozen build folders in every process: a measurable
 * part of each CLI start-up. When the addon is not where a normal install puts it (another build layout), the
 * package's own lookup is used, as before.
 */
import { createRequire } from 'node:module';

let addonPath: string | null | undefined;

/** The `nativeBinding` option for `new Database(…)`: the addon's path, or nothing (the package looks it up). */
export function sqliteBinding(): { nativeBinding?: string } {
  if (addonPath === undefined) {
    try {
      addonPath = createRequire(import.meta.url).resolve('better-sqlite3/build/Release/better_sqlite3.node');
    } catch {
      addonPath = null;
    }
  }
  return addonPath ? { nativeBinding: addonPath } : {};
}
