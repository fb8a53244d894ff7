/**
 * `coldsign backup --out FILE` and `coldsign restore FILE` (appliance/backup.ts holds what a backup is).
 * See docs/operations.md: restoring an embedded token rolls the anti-rollback anchor back with it.
 */
import { backupHome, restoreHome, ROLLBACK_NOTE } from '../../appliance/backup.js';
import { readConfig, resolveHome } from '../../appliance/home.js';
import { checkOutputPath } from '../files.js';
import { printJson, println } from '../output.js';

export async function backupCommand(options: {
  out: string;
  force?: boolean;
  json?: boolean;
}): Promise<void> {
  readConfig(resolveHome()); // a missing home is named before the output path
  checkOutputPath(options.out, options.force);
  const {
    home,
    audit: head,
    embeddedToken: embedded,
  } = await backupHome(options.out, () =>
    process.stderr.write('Another coldsign process is using this home; waiting for it to finish...\n'),
  );
  const report = { file: options.out, audit: head, embeddedToken: embedded };
  if (options.json) return printJson(report);
  println(
    `Backup of ${home} written to ${options.out}: database up to audit entry ${head.seq}, its anchor records, config.json${embedded ? ' and the embedded token' : ''}.`,
  );
  println(`  Audit head: ${head.seq} ${head.hash}`);
  if (embedded) println(ROLLBACK_NOTE);
  else
    println(
      '  The HSM keeps its own state (keys, audit key, anchor): back it up with the HSM vendor’s tools. A restored database older than the HSM’s anchor is refused as a rollback (docs/operations.md).',
    );
}

export async function restoreCommand(file: string, options: { json?: boolean }): Promise<void> {
  const { home, audit: head, embeddedToken: embedded, anchorRecords } = await restoreHome(file);
  if (options.json) return printJson({ home, audit: head, embeddedToken: embedded, anchorRecords });
  println(`Restored ${file} into ${home}: audit head ${head.seq} ${head.hash}.`);
  if (embedded) println(ROLLBACK_NOTE);
  if (!anchorRecords)
    println(
      'WARNING: this backup holds no anchor record file (coldsign.db-anchor.json; backups made by earlier releases): `coldsign audit verify` will report a rollback (exit 6) until the file of the same moment is put beside coldsign.db.',
    );
  println('Run `coldsign audit verify` now; compare its head with your latest audit export.');
}
