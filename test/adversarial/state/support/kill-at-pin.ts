/**
 * Crashes at a known point, with no race against the clock: runs a real `bin/coldsign` with the preload
 * hold-at-pin-write.mjs, which stops the process at its Nth pin write and says so on stderr; only then is it
 * killed (SIGKILL). Plus plain-SQLite access to the killed home's database, as someone holding the file has.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { BIN } from '../../../support/cli.js';
import type { ApplianceHome } from '../../../support/appliance-home.js';

const HOLD = pathToFileURL(join(import.meta.dirname, 'hold-at-pin-write.mjs')).href;

/**
 * Runs the CLI of `home` held at a pin write (`hold`: "N:after" or "N:before", see the preload) and SIGKILLs it once
 * it says it is held there. Resolves with how it ended and whether it was held.
 */
export function killWhenHeld(
  home: ApplianceHome,
  args: string[],
  hold: string,
): Promise<{ signal: NodeJS.Signals | null; held: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: {
        ...process.env,
        ...home.cli.env,
        NODE_OPTIONS: `--import ${HOLD}`,
        COLDSIGN_TEST_HOLD_PIN_WRITE: hold,
      },
      cwd: home.cli.dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let held = false;
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (!held && stderr.includes(`coldsign-test: held at pin write ${hold.replace(':', ' (')})`)) {
        held = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (!held)
        reject(new Error(`coldsign ended (code ${code}) without being held: ${stderr.slice(0, 2000)}`));
      else resolve({ signal, held });
    });
  });
}

/** Runs `fn` on the home's database opened with plain SQLite (read and write, as the file's holder can). */
export function withHomeDb<T>(home: ApplianceHome, fn: (db: Database.Database) => T): T {
  const db = new Database(join(home.cli.env.COLDSIGN_HOME!, 'coldsign.db'));
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
