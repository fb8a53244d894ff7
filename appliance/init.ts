/**
 * A new appliance home (`coldsign init`): the HSM connected (embedded SoftHSM2 by default, or a PKCS#11
 * module), the audit key generated inside it, the first entry and checkpoint anchored, the officers enrolled.
 * The home is built in a staging directory and renamed into place, so a failed init leaves nothing.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmdirSync,
  rmSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { makeError } from '../core/errors.js';
import { Hsm } from '../hsm/index.js';
import { PROFILE_NAMES, type HsmProfileName } from '../hsm/profile.js';
import { findSoftHsmModule, initSoftHsmToken, useSoftHsmHome } from '../hsm/softhsm.js';
import { openDatabase } from '../store/database.js';
import { AUDIT_KEY_LABEL, openHsmAuditor } from '../store/audit-hsm.js';
import {
  DEFAULT_TOKEN_LABEL,
  acquireInitLock,
  removeStaleInitLock,
  isInitialized,
  resolveHome,
  writeConfig,
  type ColdsignConfig,
  type Home,
} from '../store/home.js';
import { enrollOfficers, parseOfficerArgument } from '../store/officers.js';
import type { Officer } from '../policy/signing.js';
import { holdInitAt } from './stage-hold.js';

/** What the operator asks for (`coldsign init` options). */
export interface InitRequest {
  softhsm?: boolean;
  module?: string;
  token?: string;
  slot?: number;
  serial?: string;
  profile?: string;
  /** NAME=PUBLICKEY of each officer to enrol. */
  officer: string[];
  quorum?: number;
}

/** A checked init request: everything is validated before the PIN is asked for. */
export interface InitPlan {
  home: Home;
  config: ColdsignConfig;
  officers: Officer[];
  quorum: number;
  embedded: boolean;
}

function parseProfile(name: string | undefined): HsmProfileName | undefined {
  if (name === undefined) return undefined;
  if (!(PROFILE_NAMES as readonly string[]).includes(name))
    throw makeError('USAGE', `--profile must be one of ${PROFILE_NAMES.join(', ')}; "${name}" is not.`);
  return name as HsmProfileName;
}

/** Checks an init request (home, HSM choice, officers, quorum) and builds the home's configuration. */
export function planInit(options: InitRequest, env: NodeJS.ProcessEnv = process.env): InitPlan {
  const home = resolveHome(env);
  refuseUsedDirectory(home);
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
  refuseUsedDirectory(home);
  return { home, config, officers, quorum, embedded };
}

/** A home directory init may fill: absent or empty, and not already a coldsign home. */
function refuseUsedDirectory(home: Home): void {
  if (isInitialized(home)) {
    // an init killed after its rename left its lock file beside the whole home
    removeStaleInitLock(home);
    throw makeError(
      'HOME_ALREADY_INITIALIZED',
      `${home.dir} is already a coldsign home; nothing was changed.`,
    );
  }
  if (existsSync(home.dir) && readdirSync(home.dir).length > 0) {
    throw makeError(
      'USAGE',
      `${home.dir} exists, is not empty and is not a coldsign home: move it away or choose another COLDSIGN_HOME (nothing was changed).`,
    );
  }
}

/** Creates the planned home with the operator's PIN (the token's user PIN) and returns the audit public key. */
export async function initAppliance(
  plan: InitPlan,
  pin: string,
  onWait: () => void = () => {},
): Promise<{ auditPublicKey: string }> {
  // Two inits of one home (or on one external token) run one after the other; the PIN is asked first.
  const initLock = acquireInitLock(plan.home, onWait);
  try {
    await holdInitAt('locked');
    refuseUsedDirectory(plan.home);
    return await buildHome(plan, pin);
  } finally {
    initLock.release();
  }
}

async function buildHome(plan: InitPlan, pin: string): Promise<{ auditPublicKey: string }> {
  const { home, config, officers, quorum, embedded } = plan;
  // The home is built in a staging directory next to it and renamed into place at the end, so an
  // interrupted or failed init leaves no home at all (rename(2) is atomic) and can simply be run again.
  const staging = stagingDirectory(home);
  let auditPublicKey: string;
  const interrupted = () => {
    rmSync(staging.dir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    await holdInitAt('staged');
    auditPublicKey = await createHome(staging, config, pin, officers, quorum);
    await holdInitAt('configured');
    if (existsSync(home.dir)) rmdirSync(home.dir); // an empty directory the operator made
    renameSync(staging.dir, home.dir);
    await holdInitAt('renamed');
    // The embedded token's conf names the token directory by absolute path: now the home's own.
    if (embedded) useSoftHsmHome(home.dir);
    fsyncDirectory(dirname(home.dir));
  } catch (error) {
    rmSync(staging.dir, { recursive: true, force: true });
    throw error;
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
  return { auditPublicKey };
}

async function createHome(
  home: Home,
  config: ColdsignConfig,
  pin: string,
  officers: Officer[],
  quorum: number,
): Promise<string> {
  const embedded = config.hsm.embedded;
  if (embedded) {
    useSoftHsmHome(home.dir);
    // The SO PIN only unlocks a locked user PIN: taken from COLDSIGN_SO_PIN, or random and never stored.
    const soPin = process.env.COLDSIGN_SO_PIN || randomBytes(16).toString('hex');
    initSoftHsmToken(config.hsm.module, config.hsm.token, soPin, pin);
    await holdInitAt('token');
  }
  let auditPublicKey = '';
  // Checks the connection, the PIN and the mechanisms before anything is written.
  const hsm = Hsm.open(config.hsm, pin);
  try {
    if ((await hsm.keys.list()).some((key) => key.label === AUDIT_KEY_LABEL)) {
      throw makeError(
        'HSM_TOKEN_IN_USE',
        `The token "${config.hsm.token}" already holds a coldsign audit key: it serves another coldsign home. Use that home (set COLDSIGN_HOME to it), or initialize a fresh token; one token never serves two homes (nothing was created).`,
      );
    }
    const db = openDatabase(home.databasePath);
    try {
      const now = new Date();
      // The audit key is generated inside the HSM; the first entry and checkpoint anchor the log in the token.
      const auditor = await openHsmAuditor(db, hsm, now, { create: true });
      auditPublicKey = auditor.publicKeyHex;
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
  await holdInitAt('anchored');
  writeConfig(home, config);
  return auditPublicKey;
}

/**
 * A fresh staging directory `.NAME.init-PID` next to the home; staging directories of init processes that
 * no longer run (killed with no chance to clean up) are removed first.
 */
function stagingDirectory(home: Home): Home {
  const parent = dirname(home.dir);
  const prefix = `.${basename(home.dir)}.init-`;
  mkdirSync(parent, { recursive: true });
  for (const name of readdirSync(parent)) {
    const pid = Number(name.slice(prefix.length));
    if (name.startsWith(prefix) && Number.isSafeInteger(pid) && !isRunning(pid))
      rmSync(join(parent, name), { recursive: true, force: true });
  }
  const dir = join(parent, `${prefix}${process.pid}`);
  mkdirSync(dir, { mode: 0o700 });
  return resolveHome({ COLDSIGN_HOME: dir });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
