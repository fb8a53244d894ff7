/** Runs a command with the appliance session of COLDSIGN_HOME, unlocked with the PIN (env or prompt). */
import { ApplianceSession } from '../appliance/session.js';
import { PIN, readSecret } from './secrets.js';

export async function withSession<T>(
  fn: (session: ApplianceSession) => Promise<T>,
  options: { unlock?: boolean } = {},
): Promise<T> {
  const session = new ApplianceSession();
  try {
    if (options.unlock !== false) {
      const { head } = await session.unlock(await readSecret(PIN));
      // The checkpoint head on every unlock: an auditor comparing it over time notices a head that went back.
      if (process.stderr.isTTY) process.stderr.write(`audit head: entry ${head.seq} ${head.hash}\n`);
    }
    return await fn(session);
  } finally {
    await session.close();
  }
}
