/**
 * `hsm info` only reads the home: on a read-only home (a read-only bind mount: the tests run as root, which ignores
 * file modes) it still shows the HSM, the anchors (with the PIN) and the last full verification, and on a writable
 * home the database file is left byte for byte as it was. Real CLI, SoftHSM2 and SQLite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createCliHome, type CliHome } from '../support/cli.js';

interface InfoReport {
  anchor: { status: string; anchors: unknown[] };
  audit: { status: string };
}

let cli: CliHome;
let home: string;
const mount = (...args: string[]) => execFileSync('mount', args);
const digest = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

beforeAll(() => {
  cli = createCliHome();
  home = cli.env.COLDSIGN_HOME!;
  expect(cli.run(['init']).code).toBe(0);
  expect(cli.run(['keys', 'generate', '--chain', 'evm', '--label', 'vault-eth']).code).toBe(0);
});
afterAll(() => cli?.cleanup());

describe('hsm info', () => {
  it('leaves the database of a writable home untouched', () => {
    const db = join(home, 'coldsign.db');
    const before = { digest: digest(db), mtime: statSync(db).mtimeMs };
    const result = cli.run(['hsm', 'info', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json<InfoReport>().anchor.status).toBe('read');
    expect({ digest: digest(db), mtime: statSync(db).mtimeMs }).toEqual(before);
  });

  it('works on a read-only home: anchors and the last full verification', () => {
    mount('--bind', home, home);
    try {
      mount('-o', 'remount,ro,bind', home);
      const result = cli.run(['hsm', 'info', '--json']);
      expect(result.code, result.stderr).toBe(0);
      const report = result.json<InfoReport>();
      expect(report.anchor.status).toBe('read');
      expect(report.anchor.anchors.length).toBeGreaterThan(0);
      expect(report.audit.status).not.toBe('no database yet');
    } finally {
      execFileSync('umount', [home]);
    }
  });
});
