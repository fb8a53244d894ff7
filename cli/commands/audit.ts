/** `coldsign audit verify|export`. */
import { readFileSync } from 'node:fs';
import { makeError } from '../../core/errors.js';
import { exportAudit, verifyAuditExport } from '../../store/audit-export.js';
import { writeFileAtomic } from '../files.js';
import { printJson, println } from '../output.js';
import { withSession } from '../session.js';

export async function auditVerifyCommand(options: {
  file?: string;
  json?: boolean;
  allSignatures?: boolean;
}): Promise<void> {
  if (options.file) return verifyExportFile(options.file, options.json);
  // Unlocking checks the pinned checkpoint and the state; verify hashes the whole chain (exit 6 on failure).
  const result = await withSession((session) =>
    session.auditVerify(options.allSignatures ? 'all' : 'newest'),
  );
  if (!result.ok) {
    const bad = result.firstBad!;
    throw makeError(
      'AUDIT_TAMPERED',
      `The audit log does not verify at entry ${bad.seq}: ${bad.reason}.`.replace(/\.\.$/, '.'),
      { seq: bad.seq },
    );
  }
  if (options.json) return printJson(result);
  println(
    `Audit log verifies: ${result.entries} entries, hash chain intact, state tables match the log, ${options.allSignatures ? 'every checkpoint signature' : 'the newest checkpoint signature'} valid, head pinned in the HSM.`,
  );
  println(`  head: entry ${result.head.seq} ${result.head.hash}`);
  for (const unfinished of result.unfinishedSignings ?? [])
    println(
      `  unfinished signing at entry ${unfinished.seq}: ${unfinished.requestIds.join(', ')} (the HSM may have signed; no signature was recorded)`,
    );
}

function verifyExportFile(file: string, json?: boolean): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw makeError('INPUT_NOT_FOUND', `${file} cannot be read.`);
  }
  const result = verifyAuditExport(text);
  if (!result.ok) {
    const bad = result.firstBad!;
    throw makeError(
      'AUDIT_TAMPERED',
      `The exported audit log does not verify at entry ${bad.seq}: ${bad.reason}.`.replace(/\.\.$/, '.'),
      { seq: bad.seq },
    );
  }
  if (json) return printJson(result);
  println(
    `Exported audit log verifies offline: ${result.entries} entries, ${result.checkpoints} signed checkpoint(s).`,
  );
}

export async function auditExportCommand(options: { out: string; json?: boolean }): Promise<void> {
  const text = await withSession(async (session) => exportAudit(session.db, new Date()), { unlock: false });
  writeFileAtomic(options.out, new TextEncoder().encode(text));
  const entries = text.split('\n').filter(Boolean).length;
  if (options.json) return printJson({ file: options.out, lines: entries });
  println(
    `Audit log exported to ${options.out}. Verify it anywhere with: coldsign audit verify --file ${options.out}`,
  );
}
