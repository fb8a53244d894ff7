/** The Electronegativity gate: app/ passes, and an insecure window fails the run (not just prints a table). */
import { afterAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/cli.js';

const SCRIPT = join(ROOT, 'scripts', 'app-electronegativity.mjs');
const dir = mkdtempSync(join(tmpdir(), 'coldsign-eng-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scan(input?: string) {
  const result = spawnSync(process.execPath, [SCRIPT, '--json', ...(input ? ['--input', input] : [])], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  const json = result.stdout.slice(result.stdout.indexOf('{'));
  return {
    code: result.status,
    report: JSON.parse(json) as { issues: Array<{ id: string; severity: string }> },
  };
}

it('finds nothing of MEDIUM severity or above in app/', () => {
  const { code, report } = scan();
  expect(report.issues.filter((i) => i.severity === 'MEDIUM' || i.severity === 'HIGH')).toEqual([]);
  expect(code).toBe(0);
});

it('fails on a window without context isolation or sandbox, and without navigation limits', () => {
  const bad = join(dir, 'bad-app');
  mkdirSync(bad);
  writeFileSync(
    join(bad, 'main.js'),
    "const { BrowserWindow } = require('electron');\nnew BrowserWindow({ webPreferences: { nodeIntegration: true, contextIsolation: false, sandbox: false } });\n",
  );
  const { code, report } = scan(bad);
  expect(report.issues.map((i) => i.id)).toEqual(
    expect.arrayContaining([
      'CONTEXT_ISOLATION_JS_CHECK',
      'SANDBOX_JS_CHECK',
      'LIMIT_NAVIGATION_GLOBAL_CHECK',
    ]),
  );
  expect(code).toBe(1);
});
