/**
 * scripts/bundle.mjs replaces its output folder with one whole build (chunks of earlier builds do not pile up), and
 * leaves alone a folder that holds anything but a bundle. Real esbuild runs into temporary folders.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
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

/** The chunks `chunk` loads before it runs: its static imports, and theirs (dynamic `import()` not followed). */
function staticClosure(out: string, chunk: string): Set<string> {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const code = readFileSync(join(out, name), 'utf8');
    for (const [, next] of code.matchAll(/\bimport\s*(?:[^"'();]*?from\s*)?"\.\/([^"]+)"/g)) visit(next!);
  };
  visit(chunk);
  return seen;
}

it('the Bitcoin review loads viem only for EIP-55 checksums and unit formatting, not its contract and ABI code', () => {
  const out = join(dir, 'viem');
  const result = bundle(out);
  expect(result.status, result.stderr).toBe(0);
  const sourcesOf = (name: string) =>
    (JSON.parse(readFileSync(join(out, `${name}.map`), 'utf8')) as { sources: string[] }).sources;
  const chunks = readdirSync(out).filter((n) => n.endsWith('.js'));
  const review = chunks.find((n) => sourcesOf(n).some((s) => s.endsWith('appliance/review-words.ts')));
  expect(review).toBeDefined();
  const loaded = [...staticClosure(out, review!)].flatMap(sourcesOf);
  // the checksum and the formatter are still viem's own (not a copy)
  expect(loaded.some((s) => /viem\/utils\/address\/getAddress\.ts$/.test(s))).toBe(true);
  expect(loaded.some((s) => /viem\/utils\/unit\/formatUnits\.ts$/.test(s))).toBe(true);
  // what the EVM code alone uses stays out of that closure
  expect(
    loaded.filter((s) => /viem\/(actions|utils\/abi|utils\/transaction)\/|abitype\/|\/ox\//.test(s)),
  ).toEqual([]);
});
