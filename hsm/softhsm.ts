/**
 * The embedded default HSM: a SoftHSM2 token kept inside COLDSIGN_HOME with its own softhsm2.conf
 * (never the machine's global configuration). The token is initialized through PKCS#11 itself
 * (C_InitToken / C_InitPIN), so no PIN ever appears in a command line.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pkcs11js from './pkcs11js.js';
import { makeError } from '../core/errors.js';
import { acquireModule } from './module.js';
import { call } from './pkcs11-errors.js';
import { trimLabel } from './token.js';

/** Where Debian, Ubuntu, Fedora and source builds put the SoftHSM2 module. */
export const SOFTHSM_MODULE_CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib64/pkcs11/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
];

export function findSoftHsmModule(): string {
  const found = SOFTHSM_MODULE_CANDIDATES.find((path) => existsSync(path));
  if (!found) {
    throw makeError(
      'HSM_MODULE_NOT_FOUND',
      'SoftHSM2 is not installed (install the softhsm2 package, or give --module for another PKCS#11 HSM).',
    );
  }
  return found;
}

/** Path of the softhsm2.conf inside a home. */
export function softHsmConfPath(home: string): string {
  return join(home, 'softhsm2.conf');
}

/**
 * Points SoftHSM2 at the configuration inside `home`, (re)writing it (and the token directory) when it
 * does not name this home's token directory: SoftHSM2 needs an absolute path, so a copied or moved home
 * gets its conf rewritten at its next start instead of using the original's token.
 * Must run before the module is first loaded in this process.
 */
export function useSoftHsmHome(home: string): string {
  const conf = softHsmConfPath(home);
  const tokens = join(home, 'softhsm-tokens');
  mkdirSync(tokens, { recursive: true, mode: 0o700 });
  const wanted = `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`;
  if (!existsSync(conf) || readFileSync(conf, 'utf8') !== wanted) {
    writeFileSync(conf, wanted, { mode: 0o600 });
  }
  process.env.SOFTHSM2_CONF = conf;
  return conf;
}

/**
 * Initializes a new token labelled `label` in the first free slot, with the SO PIN and user PIN given
 * (PKCS#11 v2.40 §5.6: C_InitToken, then C_Login as SO and C_InitPIN).
 */
export function initSoftHsmToken(modulePath: string, label: string, soPin: string, userPin: string): void {
  const lease = acquireModule(modulePath);
  const pkcs11 = lease.pkcs11;
  try {
    const slots = call('C_GetSlotList', () => pkcs11.C_GetSlotList(true));
    for (const slot of slots) {
      const info = call('C_GetTokenInfo', () => pkcs11.C_GetTokenInfo(slot));
      if ((info.flags & pkcs11js.CKF_TOKEN_INITIALIZED) !== 0 && trimLabel(info.label) === label) {
        throw makeError(
          'HOME_ALREADY_INITIALIZED',
          `A token labelled "${label}" already exists in this home.`,
        );
      }
    }
    const free = slots.find(
      (slot) => (pkcs11.C_GetTokenInfo(slot).flags & pkcs11js.CKF_TOKEN_INITIALIZED) === 0,
    );
    if (!free) throw makeError('HSM_TOKEN_NOT_FOUND', 'SoftHSM2 offers no free slot for a new token.');
    call('C_InitToken', () => pkcs11.C_InitToken(free, soPin, label.padEnd(32, ' ')));
    // SoftHSM2 renumbers slots after C_InitToken: find the new token again by label.
    const slot = call('C_GetSlotList', () => pkcs11.C_GetSlotList(true)).find(
      (s) => trimLabel(pkcs11.C_GetTokenInfo(s).label) === label,
    );
    if (!slot)
      throw makeError('HSM_TOKEN_NOT_FOUND', `The new token "${label}" did not appear after C_InitToken.`);
    const session = call('C_OpenSession', () =>
      pkcs11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION),
    );
    try {
      call('C_Login', () => pkcs11.C_Login(session, pkcs11js.CKU_SO, soPin));
      call('C_InitPIN', () => pkcs11.C_InitPIN(session, userPin));
      call('C_Logout', () => pkcs11.C_Logout(session));
    } finally {
      pkcs11.C_CloseSession(session);
    }
  } finally {
    lease.release();
  }
}
