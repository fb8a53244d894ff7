/**
 * scripts/bundle.mjs replaces its output folder with one whole build (chunks of earlier builds do not pile up), and
 * leaves alone a folder that holds anything but a bundle. Real esbuild runs into temporary folders.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'coldsign-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bundle = (out: string) =>
  spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs'), '--out', out], {
    cwd: dir,
    encoding: 'utf8',
  });

it('a rebuild removes the chunks of an earlier build and leaves no staging folder', () => {
  const out = join(dir, 'bundle');
  mkdirSync(out);
  writeFileSync(join(out, 'main.js'), '// an earlier build\n');
  writeFileSync(join(out, 'chunk-STALE000.js'), '// an earlier build\n');
  const result = bundle(out);
  expect(result.status, result.stderr).toBe(0);
  const names = readdirSync(out);
  expect(names).not.toContain('chunk-STALE000.js');
  expect(names).toEqual(expect.arrayContaining(['main.js', 'audit-verify-worker.js']));
  expect(readdirSync(dir)).toEqual(['bundle']);
});

it('a folder holding anything but a bundle is neither built into nor removed', () => {
  const out = join(dir, 'not-a-bundle');
  mkdirSync(out);
  writeFileSync(join(out, 'notes.txt'), 'keep me\n');
  const result = bundle(out);
  expect(result.status).toBe(2);
  expect(result.stderr).toContain('not a CLI bundle; nothing was built or removed');
  expect(readdirSync(out)).toEqual(['notes.txt']);
  expect(existsSync(join(out, 'main.js'))).toBe(false);
});
