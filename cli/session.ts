/**
 * Runs a command with the appliance session of COLDSIGN_HOME. Commands that unlock the HSM write (the
 * audit log at least): they hold the home's writer lock for their whole run. Reading commands take no lock
 * and, on a read-only home, read a snapshot of the database.
 */
import { isColdsignError } from '../core/errors.js';
import { ApplianceSession } from '../appliance/session.js';
import { isHomeWritable, readConfig, resolveHome } from '../appliance/home.js';
import { showUnlockedHead, withCliWriter } from './writer.js';

export async function withSession<T>(
  /** `auditWarning`: what the unlock warned of, if anything (a reading session does not unlock). */
  fn: (session: ApplianceSession, auditWarning?: string) => Promise<T>,
  options: { unlock?: boolean; fullVerify?: boolean } = {},
): Promise<T> {
  if (options.unlock === false) {
    const home = resolveHome();
    readConfig(home); // a missing or mistyped home is named before anything else is said
    return useSession(openForReading(isHomeWritable(home)), (session) => fn(session));
  }
  return withCliWriter(({ pin }) =>
    useSession(new ApplianceSession(), async (session) => {
      try {
        const { head, auditWarning } = await session.unlock(pin!);
        showUnlockedHead(head);
        // Not for `audit verify` itself, which is the remedy.
        if (auditWarning && !options.fullVerify) process.stderr.write(`warning: ${auditWarning}\n`);
        return await fn(session, auditWarning);
      } finally {
        // Non-fatal audit problems met along the way (a pin an unfinished review could not close) are said, like
        // the unlock's audit warning, whatever the command's outcome. Only an unlocked session writes the pin.
        for (const warning of session.takeAuditWarnings()) process.stderr.write(`warning: ${warning}\n`);
      }
    }),
  );
}

/** Runs `fn` with the session and closes it after. */
async function useSession<T>(
  session: ApplianceSession,
  fn: (session: ApplianceSession) => Promise<T>,
): Promise<T> {
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

/** A reading command opens the database normally, or a read-only snapshot when the home cannot be written to. */
function openForReading(writable: boolean): ApplianceSession {
  if (!writable) return new ApplianceSession(undefined, { readOnly: true });
  try {
    return new ApplianceSession();
  } catch (error) {
    // A full disk or a failing write still lets the keys, the policy and the log be read.
    if (isColdsignError(error) && error.exitCode === 7 && error.code !== 'HOME_BUSY')
      return new ApplianceSession(undefined, { readOnly: true });
    throw error;
  }
}
