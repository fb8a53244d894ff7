/** Helpers for the audit tests: a database in a temporary folder bound to the real SoftHSM audit key. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Hsm } from '../../hsm/index.js';
import { Auditor, type AuditPorts } from '../../store/audit.js';
import { hsmAuditPorts } from '../../store/audit-hsm.js';
import { ColdsignDb, openDatabase } from '../../store/database.js';
import { replaceInIndexPages } from '../support/index-pages.js';
import { createTestToken, type TestToken } from '../support/softhsm.js';

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

/**
 * One real SoftHSM2 test token for a test file (opened before its tests, removed after), and the
 * audit cases made on it, closed and deleted after the file's tests.
 */
export function useAuditToken(): {
  hsm: () => Hsm;
  fresh: (entries?: number) => Promise<AuditCase>;
  track: (c: AuditCase) => AuditCase;
} {
  let token: TestToken;
  let hsm: Hsm;
  const cases: AuditCase[] = [];
  beforeAll(() => {
    token = createTestToken();
    hsm = token.open();
  });
  afterAll(() => {
    for (const c of cases) {
      c.db.close();
      rmSync(c.dir, { recursive: true, force: true });
    }
    hsm.close();
    token.cleanup();
  });
  const track = (c: AuditCase) => {
    cases.push(c);
    return c;
  };
  return { hsm: () => hsm, fresh: async (entries = 8) => track(await newAuditCase(hsm, entries)), track };
}

/**
 * Closes the case's database, edits its structure with plain SQL (as an attacker would), shows that opening it is
 * refused (STORE_CORRUPT naming the changed object), and reopens it without that open-time check, so that a test
 * can show the layer below it (the checks of the audit log and the state tables) also refuses the edit.
 */
export function tamperStructure(c: AuditCase, sql: (raw: Database.Database) => void, changed: string): void {
  expect(() => tamper(c, sql)).toThrow(
    expect.objectContaining({
      code: 'STORE_CORRUPT',
      message: expect.stringContaining(`structure was changed outside coldsign (the table ${changed} `),
    }),
  );
  c.db = new ColdsignDb(new Database(c.path), c.path);
}

/** Closes the case's database, edits the file with plain SQL (as an attacker would), and reopens it. */
export function tamper(c: AuditCase, sql: (raw: Database.Database) => void): void {
  c.db.close();
  const raw = new Database(c.path);
  sql(raw);
  raw.close();
  c.db = openDatabase(c.path);
}

/**
 * Closes the case's database, replaces `from` by `to` in the pages of one index only (below SQL: test/support/
 * index-pages.ts), and reopens it; returns how many occurrences were replaced.
 */
export function tamperIndexPages(c: AuditCase, index: string, from: string, to: string): number {
  c.db.close();
  const replaced = replaceInIndexPages(c.path, index, from, to);
  c.db = openDatabase(c.path);
  return replaced;
}
