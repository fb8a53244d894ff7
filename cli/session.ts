/** Runs a command with the appliance session of COLDSIGN_HOME, unlocked with the PIN (env or prompt). */
import { ApplianceSession } from '../appliance/session.js';
import { PIN, readSecret } from './secrets.js';

export async function withSession<T>(
  fn: (session: ApplianceSession) => Promise<T>,
  options: { unlock?: boolean } = {},
): Promise<T> {
  const session = new ApplianceSession();
  try {
    if (options.unlock !== false) await session.unlock(await readSecret(PIN));
    return await fn(session);
  } finally {
    await session.close();
  }
}
