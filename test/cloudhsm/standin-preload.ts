/**
 * Preloaded (node --import) into CLI child processes of the CloudHSM stand-in e2e test: installs the stand-in
 * around the PKCS#11 module and, at exit, appends its counters to COLDSIGN_STANDIN_REPORT (one JSON line).
 */
import { appendFileSync } from 'node:fs';
import type pkcs11js from 'pkcs11js';
import { cloudHsmStandin, type StandinCounters } from './standin.js';

const reports: StandinCounters[] = [];
(globalThis as Record<symbol, unknown>)[Symbol.for('coldsign.test.pkcs11-wrapper')] = (
  native: pkcs11js.PKCS11,
) => {
  const { pkcs11, control } = cloudHsmStandin(native);
  reports.push(control.counters);
  return pkcs11;
};
process.on('exit', () => {
  const path = process.env.COLDSIGN_STANDIN_REPORT;
  if (path) for (const counters of reports) appendFileSync(path, `${JSON.stringify(counters)}\n`);
});
