/**
 * `coldsign hsm info [--json]`: the doctor's view of the HSM — module and library, slots and tokens, sessions,
 * the mechanisms coldsign uses, the profile and what it cannot do, and (with the PIN) the audit anchor's state.
 */
import { existsSync } from 'node:fs';
import { isColdsignError } from '../../core/errors.js';
import { Hsm } from '../../hsm/index.js';
import { describeHsm, type HsmReport } from '../../hsm/introspect.js';
import { useSoftHsmHome } from '../../hsm/softhsm.js';
import { hsmAuditPorts, type AnchorState } from '../../store/audit-hsm.js';
import { fullVerificationStatus, type FullVerificationStatus } from '../../store/audit-freshness.js';
import { openDatabase } from '../../store/database.js';
import { describeFullVerification } from '../audit-freshness.js';
import { readConfig, resolveHome } from '../../store/home.js';
import { printJson, println } from '../output.js';
import { PIN, readSecret } from '../secrets.js';

interface AnchorReport {
  /** "verified", or why the state is not shown (no PIN given, no audit key …). */
  status: string;
  anchors: AnchorState[];
}

async function anchorState(
  config: ReturnType<typeof readConfig>,
  databasePath: string,
): Promise<AnchorReport> {
  let pin: string;
  try {
    pin = await readSecret(PIN);
  } catch (error) {
    if (isColdsignError(error, 'HSM_PIN_REQUIRED'))
      return { status: 'not shown: set COLDSIGN_PIN or run in a terminal to read it', anchors: [] };
    throw error;
  }
  const hsm = Hsm.open(config.hsm, pin, { size: 1 });
  const db = openDatabase(databasePath);
  try {
    const ports = await hsmAuditPorts(hsm, { db });
    return { status: 'read', anchors: await ports.pins.state() };
  } finally {
    db.close();
    hsm.close();
  }
}

export async function hsmInfoCommand(options: { json?: boolean }): Promise<void> {
  const home = resolveHome();
  const config = readConfig(home);
  if (config.hsm.embedded) useSoftHsmHome(home.dir);
  const report = describeHsm(config.hsm);
  const anchor = await anchorState(config, home.databasePath);
  const audit = fullVerifyState(home.databasePath);
  if (options.json) return printJson({ ...report, anchor, audit });
  printReport(report, anchor);
  println(describeFullVerification(audit));
}

/** The last full verification of the audit log (`audit verify`) and whether it is overdue; no PIN needed. */
function fullVerifyState(databasePath: string): FullVerificationStatus | { status: string } {
  if (!existsSync(databasePath)) return { status: 'no database yet' };
  const db = openDatabase(databasePath);
  try {
    return fullVerificationStatus(db, new Date());
  } finally {
    db.close();
  }
}

function printReport(report: HsmReport, anchor: AnchorReport): void {
  const { library, token, profile } = report;
  println(`Module:   ${report.module}`);
  println(
    `Library:  ${library.description} ${library.version} by ${library.manufacturer} (PKCS#11 ${library.cryptoki})`,
  );
  println(
    `Token:    "${token.label}" serial ${token.serial}, ${token.model} by ${token.manufacturer}, slot ${token.slot}`,
  );
  const say = (n: number | null) => (n === null ? 'unknown' : String(n));
  println(
    `Sessions: ${say(token.sessions.open)} open (max ${say(token.sessions.max)}), ${say(token.sessions.readWrite)} read-write (max ${say(token.sessions.maxReadWrite)})`,
  );
  println(`Profile:  ${profile.name} (${profile.source})`);
  for (const limit of profile.cannot) println(`          - ${limit}`);
  println(`Mechanisms (${report.mechanismCount} offered in all):`);
  for (const m of report.mechanisms) {
    const sizes = m.offered ? `; key sizes ${m.minKeySize}–${m.maxKeySize}` : '';
    const ec = m.ecFlags ? `, ${m.ecFlags.join(', ')}` : '';
    println(`  ${m.offered ? 'yes' : 'NO '} ${m.name.padEnd(28)} ${m.use}${sizes}${ec}`);
  }
  println('Slots:');
  for (const slot of report.slots) {
    const t = slot.token ? `"${slot.token.label}" serial ${slot.token.serial}` : 'no token';
    println(`  ${String(slot.id).padEnd(12)} ${t}`);
  }
  if (anchor.anchors.length === 0)
    println(`Anchor:   ${anchor.status === 'read' ? 'none found' : anchor.status}`);
  for (const a of anchor.anchors) {
    const pinned =
      a.pinnedSeq === undefined ? '' : `, checkpoint seq ${a.pinnedSeq} head ${a.pinnedHead?.slice(0, 16)}…`;
    println(`Anchor:   #${a.seq} ${a.status}, fingerprint ${a.fingerprint}${pinned}`);
  }
}
