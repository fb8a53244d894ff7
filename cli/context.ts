/** What a command needs from the home: config, database and, when it signs or generates, the HSM. */
import { Hsm } from '../hsm/index.js';
import { useSoftHsmHome } from '../hsm/softhsm.js';
import { openDatabase, type ColdsignDb } from '../store/database.js';
import { readConfig, resolveHome, type ColdsignConfig, type Home } from '../store/home.js';
import { PIN, readSecret } from './secrets.js';

export interface Context {
  home: Home;
  config: ColdsignConfig;
  db: ColdsignDb;
  close(): void;
}

export function openContext(): Context {
  const home = resolveHome();
  const config = readConfig(home);
  const db = openDatabase(home.databasePath);
  return { home, config, db, close: () => db.close() };
}

/** Connects to the HSM of the home (embedded SoftHSM2 or the configured module) with the user PIN. */
export async function openHsm(context: { home: Home; config: ColdsignConfig }): Promise<Hsm> {
  if (context.config.hsm.embedded) useSoftHsmHome(context.home.dir);
  const pin = await readSecret(PIN);
  return Hsm.open({ module: context.config.hsm.module, token: context.config.hsm.token }, pin);
}

/** Runs `fn` with the context (and closes it). */
export async function withContext<T>(fn: (context: Context) => Promise<T>): Promise<T> {
  const context = openContext();
  try {
    return await fn(context);
  } finally {
    context.close();
  }
}

/** Runs `fn` with the context and a logged-in HSM (and closes both). */
export async function withContextAndHsm<T>(fn: (context: Context, hsm: Hsm) => Promise<T>): Promise<T> {
  return withContext(async (context) => {
    const hsm = await openHsm(context);
    try {
      return await fn(context, hsm);
    } finally {
      hsm.close();
    }
  });
}
