/** Helpers for the audit tests: a database in a temporary folder bound to the real SoftHSM audit key. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hsm } from '../../hsm/index.js';
import { Auditor, type AuditPorts } from '../../store/audit.js';
import { hsmAuditPorts } from '../../store/audit-hsm.js';
import { openDatabase, type ColdsignDb } from '../../store/database.js';

let caseCounter = 0;

export const T0 = new Date('2026-03-01T12:00:00.000Z');

export function at(seconds: number): Date {
  return new Date(T0.getTime() + seconds * 1000);
}

export interface AuditCase {
  dir: string;
  path: string;
  db: ColdsignDb;
  ports: AuditPorts;
  auditor: Auditor;
}

/** A fresh database with its own pin object on the shared test token, and `entries` checkpointed entries. */
export async function newAuditCase(hsm: Hsm, entries: number): Promise<AuditCase> {
  caseCounter += 1;
  const dir = mkdtempSync(join(tmpdir(), 'coldsign-audit-'));
  const path = join(dir, 'coldsign.db');
  const db = openDatabase(path);
  const ports = await hsmAuditPorts(hsm, { db, create: true, pinLabel: `test-pin-${caseCounter}` });
  const auditor = await Auditor.open(db, ports, T0);
  for (let i = 1; i <= entries; i += 1) {
    await auditor.commit(at(i), (tx) => tx.append('test.entry', { n: i, note: `entry ${i}` }), {
      checkpoint: i % 3 === 0,
    });
  }
  await auditor.checkpoint(at(entries + 1));
  return { dir, path, db, ports, auditor };
}
