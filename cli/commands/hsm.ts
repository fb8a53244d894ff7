/**
 * `coldsign hsm info [--json]`: the doctor's view of the HSM — module and library, slots and tokens, sessions,
 * the mechanisms coldsign uses, the profile and what it cannot do, and (with the PIN) the audit anchor's state.
 */
import { isColdsignError } from '../../core/errors.js';
import { homeHsmInfo, type AnchorState, type HomeHsmInfo, type HsmReport } from '../../appliance/hsm-info.js';
import { describeFullVerification } from '../audit-freshness.js';
import { printJson, println } from '../output.js';
import { PIN, readSecret } from '../secrets.js';

interface AnchorReport {
  /** "verified", or why the state is not shown (no PIN given, no audit key …). */
  status: string;
  anchors: AnchorState[];
}

async function anchorState(info: HomeHsmInfo): Promise<AnchorReport> {
  let pin: string;
  try {
    pin = await readSecret(PIN);
  } catch (error) {
    if (isColdsignError(error, 'HSM_PIN_REQUIRED'))
      return { status: 'not shown: set COLDSIGN_PIN or run in a terminal to read it', anchors: [] };
    throw error;
  }
  return { status: 'read', anchors: await info.anchorState(pin) };
}

export async function hsmInfoCommand(options: { json?: boolean }): Promise<void> {
  const info = homeHsmInfo();
  const report = info.describe();
  const anchor = await anchorState(info);
  const audit = info.fullVerification();
  if (options.json) return printJson({ ...report, anchor, audit });
  printReport(report, anchor);
  println(describeFullVerification(audit));
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
