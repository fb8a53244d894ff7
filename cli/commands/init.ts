/** `coldsign init`: creates the home, connects the HSM (embedded SoftHSM2 by default) and the database. */
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { makeError } from '../../core/errors.js';
import { Hsm } from '../../hsm/index.js';
import { PROFILE_NAMES, type HsmProfileName } from '../../hsm/profile.js';
import { findSoftHsmModule, initSoftHsmToken, useSoftHsmHome } from '../../hsm/softhsm.js';
import { openDatabase } from '../../store/database.js';
import { openHsmAuditor } from '../../store/audit-hsm.js';
import {
  DEFAULT_TOKEN_LABEL,
  isInitialized,
  resolveHome,
  writeConfig,
  type ColdsignConfig,
  type Home,
} from '../../store/home.js';
import { printJson, println } from '../output.js';
import { PIN, readSecret } from '../secrets.js';
import { enrollOfficers, parseOfficerArgument } from '../../store/officers.js';
import type { Officer } from '../../policy/signing.js';

export interface InitOptions {
  softhsm?: boolean;
  module?: string;
  token?: string;
  slot?: number;
  serial?: string;
  profile?: string;
  officer: string[];
  quorum?: number;
  json?: boolean;
}

function parseProfile(name: string | undefined): HsmProfileName | undefined {
  if (name === undefined) return undefined;
  if (!(PROFILE_NAMES as readonly string[]).includes(name))
    throw makeError('USAGE', `--profile must be one of ${PROFILE_NAMES.join(', ')}; "${name}" is not.`);
  return name as HsmProfileName;
}

export async function initCommand(options: InitOptions): Promise<void> {
  const home = resolveHome();
  if (isInitialized(home)) {
    throw makeError(
      'HOME_ALREADY_INITIALIZED',
      `${home.dir} is already a coldsign home; nothing was changed.`,
    );
  }
  if (options.softhsm && options.module)
    throw makeError('USAGE', 'Give either --softhsm or --module, not both.');
  if (options.module && !options.token && options.slot === undefined && !options.serial)
    throw makeError(
      'USAGE',
      '--module needs --slot ID, --serial or --token LABEL to choose the token on that HSM.',
    );
  const profile = parseProfile(options.profile);
  const officers = options.officer.map(parseOfficerArgument);
  const quorum = options.quorum ?? (officers.length > 0 ? Math.min(2, officers.length) : 0);
  if (quorum > officers.length) {
    throw makeError(
      'USAGE',
      `A quorum of ${quorum} needs at least ${quorum} officers; ${officers.length} given.`,
    );
  }

  const embedded = !options.module;
  const config: ColdsignConfig = {
    version: 1,
    hsm: embedded
      ? { module: findSoftHsmModule(), token: options.token ?? DEFAULT_TOKEN_LABEL, embedded: true }
      : {
          module: options.module!,
          token:
            options.token ??
            (options.slot !== undefined ? `slot ${options.slot}` : `serial ${options.serial}`),
          embedded: false,
          ...(options.slot !== undefined ? { slot: options.slot } : {}),
          ...(options.serial ? { serial: options.serial } : {}),
          ...(profile ? { profile } : {}),
        },
    createdAt: new Date().toISOString(),
  };
  const pin = await readSecret(PIN, { confirm: embedded });
  const createdHome = !existsSync(home.dir);
  try {
    await createHome(home, config, pin, officers, quorum);
  } catch (error) {
    // No half-made home is left behind: a failed init can simply be run again.
    if (createdHome) rmSync(home.dir, { recursive: true, force: true });
    throw error;
  }

  const report = {
    home: home.dir,
    hsm: { module: config.hsm.module, token: config.hsm.token, embedded },
    officers: officers.map((o) => o.name),
    quorum,
  };
  if (options.json) return printJson(report);
  println(`Initialized coldsign home ${home.dir}`);
  println(
    `  HSM: ${embedded ? 'embedded SoftHSM2 token' : 'PKCS#11 module'} ${config.hsm.module}, token "${config.hsm.token}"`,
  );
  println(
    `  Officers: ${officers.length ? officers.map((o) => o.name).join(', ') : 'none'}; policy quorum ${quorum}`,
  );
}

async function createHome(
  home: Home,
  config: ColdsignConfig,
  pin: string,
  officers: Officer[],
  quorum: number,
) {
  const embedded = config.hsm.embedded;
  if (embedded) {
    useSoftHsmHome(home.dir);
    // The SO PIN only unlocks a locked user PIN: taken from COLDSIGN_SO_PIN, or random and never stored.
    const soPin = process.env.COLDSIGN_SO_PIN || randomBytes(16).toString('hex');
    initSoftHsmToken(config.hsm.module, config.hsm.token, soPin, pin);
  }
  // Checks the connection, the PIN and the mechanisms before anything is written.
  const hsm = Hsm.open(config.hsm, pin);
  try {
    const db = openDatabase(home.databasePath);
    try {
      const now = new Date();
      // The audit key is generated inside the HSM; the first entry and checkpoint anchor the log in the token.
      const auditor = await openHsmAuditor(db, hsm, now, { create: true });
      await auditor.log(
        'appliance.initialized',
        { hsm: { module: config.hsm.module, token: config.hsm.token, embedded } },
        now,
      );
      if (officers.length > 0) await enrollOfficers(db, auditor, officers, quorum, now);
    } finally {
      db.close();
    }
  } finally {
    hsm.close();
  }
  writeConfig(home, config);
}
