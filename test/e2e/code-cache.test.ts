/**
 * The CLI bundle starts from the V8 code cache the build trained for it (bin/load-bundle.cjs, scripts/code-cache.ts),
 * and from no other: a cache is used only for the bundle whose SHA-256 it carries. V8's own check compares only the
 * source's length, so without that hash an edited bundle of the same length would run the old build's code.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { afterAll, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';
import { runBundle } from '../support/bundle.js';

const BUNDLE = join(ROOT, 'dist', 'bundle', 'main.cjs');
const dir = mkdtempSync(join(tmpdir(), 'coldsign-code-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `coldsign --help` from `bundle`, through the launcher's loader in a fresh process. */
function helpFrom(bundle: string): { cacheUsed: boolean; help: string } {
  const { cacheUsed, stdout } = runBundle(bundle, ['--help']);
  return { cacheUsed, help: stdout };
}

const WORDS = 'Air-gapped signing appliance';
const EDITED = 'Air-gapped signing APPLIANCE'; // the same length: V8's own check cannot tell the two apart

it('the bundle is one function expression whose first statement is "use strict" (the ES modules it comes from are strict)', () => {
  const source = readFileSync(BUNDLE, 'utf8');
  expect(
    source.startsWith('(function (exports, require, module, __filename, __dirname, __coldsignBundleUrl) {'),
  ).toBe(true);
  expect(
    source
      .slice(source.indexOf('{') + 1)
      .trimStart()
      .startsWith('"use strict";'),
  ).toBe(true);
});

it('the built CLI starts from its code cache', () => {
  const { cacheUsed, help } = helpFrom(BUNDLE);
  expect(cacheUsed).toBe(true);
  expect(help).toContain(WORDS);
});

it('a cache is not used for another bundle of the same length, which V8 alone would accept and run the old code', () => {
  const source = readFileSync(BUNDLE, 'utf8');
  expect(source).toContain(WORDS);
  const edited = join(dir, 'main.cjs');
  writeFileSync(edited, source.replace(WORDS, EDITED));
  copyFileSync(`${BUNDLE}.cache`, `${edited}.cache`);

  // The risk is real: V8 takes the old build's cache for the edited source (the same length) without complaint.
  const v8Data = readFileSync(`${BUNDLE}.cache`).subarray(64);
  const unchecked = new Script(readFileSync(edited, 'utf8'), { filename: edited, cachedData: v8Data });
  expect(unchecked.cachedDataRejected).toBe(false);

  const { cacheUsed, help } = helpFrom(edited);
  expect(cacheUsed).toBe(false);
  expect(help).toContain(EDITED);
});

it('a truncated or altered cache is not used and the bundle compiles as usual', () => {
  const cache = readFileSync(`${BUNDLE}.cache`);
  const altered = Buffer.from(cache);
  altered[altered.length >> 1]! ^= 0x01; // one bit of V8's data
  for (const [name, bytes] of [
    ['truncated', cache.subarray(0, cache.length >> 1)],
    ['altered', altered],
  ] as const) {
    mkdirSync(join(dir, name));
    const copy = join(dir, name, 'main.cjs');
    copyFileSync(BUNDLE, copy);
    writeFileSync(`${copy}.cache`, bytes);
    const { cacheUsed, help } = helpFrom(copy);
    expect(cacheUsed, name).toBe(false);
    expect(help).toContain(WORDS);
  }
});

it('without a cache the bundle compiles as usual', () => {
  mkdirSync(join(dir, 'none'));
  const copy = join(dir, 'none', 'main.cjs');
  copyFileSync(BUNDLE, copy);
  const { cacheUsed, help } = helpFrom(copy);
  expect(cacheUsed).toBe(false);
  expect(help).toContain(WORDS);
});
