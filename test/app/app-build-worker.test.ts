/**
 * The app build ships the audit verification worker beside the main process bundle (app/dist/audit-verify-worker.js),
 * where main's store/audit-verify.ts looks for it, so the app's `audit verify` uses worker threads as the CLI does.
 * No Electron binary here: the built worker file runs as a real worker thread against a real SQLite log signed on the
 * SoftHSM2 test token, and gives the in-thread verdict (intact and tampered).
 */
import { existsSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Hsm } from '../../hsm/index.js';
import { Auditor } from '../../store/audit.js';
import { openDatabase } from '../../store/database.js';
import { ROOT } from '../support/cli.js';
import { createTestToken, type TestToken } from '../support/softhsm.js';
import { at, newAuditCase, type AuditCase } from '../store/audit-fixture.js';
import { buildAppOnce, removeAppBuild } from './support/app-host.js';

let token: TestToken;
let hsm: Hsm;
let appDir: string;
let log: AuditCase | undefined;

beforeAll(() => {
  appDir = join(buildAppOnce().dir, 'app');
  // as in the packaged app, node_modules sits beside app/ (better-sqlite3 is not bundled)
  symlinkSync(join(ROOT, 'node_modules'), join(buildAppOnce().dir, 'node_modules'));
  token = createTestToken();
  hsm = token.open();
});
afterAll(() => {
  log?.db.close();
  if (log) rmSync(log.dir, { recursive: true, force: true });
  hsm?.close();
  token?.cleanup();
  removeAppBuild();
});

it('main.mjs resolves the worker to the file built beside it', () => {
  const main = readFileSync(join(appDir, 'main.mjs'), 'utf8');
  const literals = [...main.matchAll(/new URL\("([^"]*audit-verify-worker\.js)", import\.meta\.url\)/g)].map(
    (m) => m[1]!,
  );
  // the bundle's own path (not a .ts source) picks the sibling URL
  expect(literals).toContain('./audit-verify-worker.js');
  const resolved = new URL('./audit-verify-worker.js', pathToFileURL(join(appDir, 'main.mjs')));
  expect(existsSync(resolved)).toBe(true);
});

it('the built worker verifies a log in two threads with the in-thread verdict, intact and tampered', async () => {
  const workerUrl = pathToFileURL(join(appDir, 'audit-verify-worker.js'));
  const c = (log = await newAuditCase(hsm, 40));
  const verdicts = async () => {
    const auditor = await Auditor.open(c.db, c.ports, at(100));
    const inThread = await auditor.verify('newest', at(100), { workers: 0, rangeSize: 8 });
    const workers = await auditor.verify('newest', at(100), {
      workers: 2,
      rangeSize: 8,
      workerUrl,
    });
    return { inThread, workers };
  };
  const intact = await verdicts();
  expect(intact.workers).toMatchObject({ ok: true, entries: intact.inThread.entries });
  expect(intact.inThread.ok).toBe(true);

  c.db.close();
  const raw = new Database(c.path);
  raw.prepare(`UPDATE audit_log SET payload = '{"n":0}' WHERE seq = 20`).run();
  raw.close();
  c.db = openDatabase(c.path);
  const tampered = await verdicts();
  expect(tampered.workers.ok).toBe(false);
  expect(tampered.workers.firstBad).toEqual(tampered.inThread.firstBad);
  expect(tampered.workers.firstBad?.seq).toBe(20);
});
