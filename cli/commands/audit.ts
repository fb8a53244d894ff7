/** `coldsign audit verify|export`: each names the audit public key and its fingerprint. */
import { readFileSync } from 'node:fs';
import { makeError } from '../../core/errors.js';
import { verifyAuditExportReport } from '../../appliance/audit-file.js';
import { verifyHomeAudit } from '../../appliance/audit-verify.js';
import { unfinishedWorkLines } from '../../appliance/audit-discard-lines.js';
import { auditKeyFingerprint, describeAuditKey, parseAuditKeyOption } from '../audit-key.js';
import { checkOutputPath, writeOutputFile } from '../files.js';
import { printJson, println } from '../output.js';
import { showUnlockedHead, withCliWriter } from '../writer.js';

export async function auditVerifyCommand(options: {
  file?: string;
  auditKey?: string;
  json?: boolean;
  allSignatures?: boolean;
}): Promise<void> {
  if (options.file) return verifyExportFile(options.file, options.auditKey, options.json);
  if (options.auditKey)
    throw makeError('USAGE', '--audit-key pins the key of an exported log: give it with --file EXPORT.');
  // Unlocking checks the pinned checkpoint and the state; verify hashes the whole chain (exit 6 on failure).
  // No appliance session: only the modules the verification needs are loaded (a smaller process).
  const { result, auditPublicKey, fullVerify, reanchors } = await withCliWriter(({ home, config, pin }) =>
    verifyHomeAudit(home, config, pin!, options.allSignatures ? 'all' : 'newest', showUnlockedHead),
  );
  if (!result.ok) {
    const bad = result.firstBad!;
    throw makeError(
      'AUDIT_TAMPERED',
      `The audit log does not verify at entry ${bad.seq}: ${bad.reason}.`.replace(/\.\.$/, '.'),
      { seq: bad.seq },
    );
  }
  if (options.json)
    return printJson({
      ...result,
      reanchors,
      auditPublicKey,
      auditKeyFingerprint: auditKeyFingerprint(auditPublicKey),
      fullVerify,
    });
  println(
    `Audit log verifies: ${result.entries} entries, hash chain intact, state tables match the log, ${options.allSignatures ? 'every checkpoint signature' : 'the newest checkpoint signature'} valid, head pinned in the HSM.`,
  );
  println(`  head: entry ${result.head.seq} ${result.head.hash}`);
  // Tails a crashed process left beyond an open pin stay visible: what was dropped, and when.
  for (const line of unfinishedWorkLines(result.unfinishedSignings, result.discarded)) println(line);
  // Officer re-anchors after a rollback alarm stay visible: the gap and who accepted it.
  for (const r of reanchors)
    println(
      `  re-anchored at entry ${r.seq} (${r.time}) by officers ${r.officers.join(', ')}; ${r.missingEntries === null ? 'entries missing: unknown' : `entries missing: ${r.missingEntries}`}; reason: ${r.reason}`,
    );
  println(describeAuditKey(auditPublicKey));
  println(
    `  recorded as the last full verification (${fullVerify.lastOk}); unlock warns after ${fullVerify.every} without one`,
  );
}

function verifyExportFile(file: string, auditKey: string | undefined, json?: boolean): void {
  const pinnedKey = auditKey === undefined ? undefined : parseAuditKeyOption(auditKey);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw makeError('INPUT_NOT_FOUND', `${file} cannot be read.`);
  }
  // With --audit-key, an export signed by any other key (a forger re-signing an edited log) is refused.
  const result = verifyAuditExportReport(text, pinnedKey);
  if (!result.ok) {
    const bad = result.firstBad!;
    throw makeError(
      'AUDIT_TAMPERED',
      `The exported audit log does not verify at entry ${bad.seq}: ${bad.reason}.`.replace(/\.\.$/, '.'),
      { seq: bad.seq },
    );
  }
  const fingerprint = auditKeyFingerprint(result.auditPublicKey);
  if (json)
    return printJson({ ...result, auditKeyFingerprint: fingerprint, pinned: pinnedKey !== undefined });
  println(
    `Exported audit log verifies offline: ${result.entries} entries, ${result.checkpoints} signed checkpoint(s).`,
  );
  for (const line of unfinishedWorkLines(result.unfinishedSignings, result.discarded)) println(line);
  println(describeAuditKey(result.auditPublicKey));
  println(
    pinnedKey
      ? '  The key is pinned: it is the audit key you gave with --audit-key.'
      : '  The key is NOT pinned: the export was checked against the key it names itself, which a forger can replace. Compare the fingerprint with the one the appliance printed, or pass --audit-key.',
  );
}

export async function auditExportCommand(options: {
  out: string;
  force?: boolean;
  json?: boolean;
}): Promise<void> {
  checkOutputPath(options.out, options.force);
  const { withSession } = await import('../session.js');
  const { text, auditPublicKey } = await withSession(
    async (session) => ({
      text: (await session.auditExport()).text,
      auditPublicKey: await session.auditPublicKey(),
    }),
    { unlock: false },
  );
  writeOutputFile(options.out, text, options.force);
  const entries = text.split('\n').filter(Boolean).length;
  const fingerprint = auditKeyFingerprint(auditPublicKey);
  if (options.json)
    return printJson({ file: options.out, lines: entries, auditPublicKey, auditKeyFingerprint: fingerprint });
  println(`Audit log exported to ${options.out}.`);
  println(describeAuditKey(auditPublicKey));
  println(
    `Verify it anywhere with: coldsign audit verify --file ${options.out} --audit-key ${auditPublicKey}`,
  );
}
