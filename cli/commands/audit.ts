/** `coldsign audit verify|export`. */
import { readFileSync } from 'node:fs';
import { makeError } from '../../core/errors.js';
import { exportAudit, verifyAuditExport } from '../../store/audit-export.js';
import { checkOutputPath, writeOutputFile } from '../files.js';
import { printJson, println } from '../output.js';
import { withSession } from '../session.js';

export async function auditVerifyCommand(options: { file?: string; json?: boolean }): Promise<void> {
  if (options.file) return verifyExportFile(options.file, options.json);
  // Unlocking already checks the whole chain and the checkpoint pinned in the HSM (exit 6 on failure).
  const result = await withSession((session) => session.auditVerify());
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
    `Audit log verifies: ${result.entries} entries, hash chain intact, every checkpoint signature valid, head pinned in the HSM.`,
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

export async function auditExportCommand(options: {
  out: string;
  force?: boolean;
  json?: boolean;
}): Promise<void> {
  checkOutputPath(options.out, options.force);
  const text = await withSession(async (session) => exportAudit(session.db, new Date()), { unlock: false });
  writeOutputFile(options.out, text, options.force);
  const entries = text.split('\n').filter(Boolean).length;
  if (options.json) return printJson({ file: options.out, lines: entries });
  println(
    `Audit log exported to ${options.out}. Verify it anywhere with: coldsign audit verify --file ${options.out}`,
  );
}
