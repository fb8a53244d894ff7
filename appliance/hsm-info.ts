/**
 * The doctor's view of the HSM (`coldsign hsm info`): module and library, slots and tokens, sessions, the
 * mechanisms coldsign uses, the profile and what it cannot do, and (with the PIN) the audit anchor's state.
 * It only reads the home: the database is opened read-only (so it also works on a read-only home).
 */
import { Hsm } from '../hsm/index.js';
import { describeHsm, type HsmReport } from '../hsm/introspect.js';
import { useSoftHsmHome } from '../hsm/softhsm.js';
import { hsmAuditPorts, type AnchorState } from '../store/audit-hsm.js';
import { openDatabaseReadOnly } from '../store/database.js';
import { fullVerificationStatus, type FullVerificationStatus } from '../store/audit-freshness.js';
import { existsSync } from 'node:fs';
import { readConfig, resolveHome } from '../store/home.js';

export type { AnchorState, FullVerificationStatus, HsmReport };

/** What `hsm info` reads of one home, resolved once: the HSM, its audit anchors and the last full verification. */
export interface HomeHsmInfo {
  /** The HSM described without logging in. */
  describe(): HsmReport;
  /** The audit anchors the HSM holds for this home (needs the user PIN). */
  anchorState(pin: string): Promise<AnchorState[]>;
  /** The last full verification of the audit log (`audit verify`) and whether it is overdue; no PIN needed. */
  fullVerification(): FullVerificationStatus | { status: string };
}

/** The home of COLDSIGN_HOME, its configuration and (embedded) token configuration resolved once. */
export function homeHsmInfo(): HomeHsmInfo {
  const home = resolveHome();
  const config = readConfig(home);
  if (config.hsm.embedded) useSoftHsmHome(home.dir);
  return {
    describe: () => describeHsm(config.hsm),
    async anchorState(pin) {
      const hsm = Hsm.open(config.hsm, pin, { size: 1 });
      const db = openDatabaseReadOnly(home.databasePath);
      try {
        const ports = await hsmAuditPorts(hsm, { db });
        return await ports.pins.state();
      } finally {
        db.close();
        hsm.close();
      }
    },
    fullVerification() {
      if (!existsSync(home.databasePath)) return { status: 'no database yet' };
      const db = openDatabaseReadOnly(home.databasePath);
      try {
        return fullVerificationStatus(db, new Date());
      } finally {
        db.close();
      }
    },
  };
}
