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
import { join, relative, resolve } from 'node:path';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { afterAll, expect, it } from 'vitest';
import { sha256 as nativeSha256ForBitcoinjs } from '../../appliance/bitcoinjs-sha256.js';
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
  writeFileSync(join(out, 'main.cjs'), '// an earlier build\n');
  writeFileSync(join(out, 'main.cjs.cache'), 'a code cache of an earlier build');
  writeFileSync(join(out, 'chunk-STALE000.js'), '// an earlier build\n');
  const result = bundle(out);
  expect(result.status, result.stderr).toBe(0);
  const names = readdirSync(out);
  expect(names).not.toContain('chunk-STALE000.js');
  expect(names).not.toContain('main.cjs.cache');
  expect(names).toEqual(expect.arrayContaining(['main.cjs', 'audit-verify-worker.js']));
  expect(readdirSync(dir)).toEqual(['bundle']);
});

it('a build of the earlier layout (ES module chunks and main.js) is replaced', () => {
  const out = join(dir, 'earlier-layout');
  mkdirSync(out);
  writeFileSync(join(out, 'main.js'), '// an earlier build\n');
  writeFileSync(join(out, 'chunk-STALE000.js.map'), '{}');
  const result = bundle(out);
  expect(result.status, result.stderr).toBe(0);
  expect(readdirSync(out).sort()).toEqual(
    ['audit-verify-worker.js', 'audit-verify-worker.js.map', 'main.cjs', 'main.cjs.map'].sort(),
  );
});

it('a folder holding anything but a bundle is neither built into nor removed', () => {
  const out = join(dir, 'not-a-bundle');
  mkdirSync(out);
  writeFileSync(join(out, 'notes.txt'), 'keep me\n');
  const result = bundle(out);
  expect(result.status).toBe(2);
  expect(result.stderr).toContain('not a CLI bundle; nothing was built or removed');
  expect(readdirSync(out)).toEqual(['notes.txt']);
  expect(existsSync(join(out, 'main.cjs'))).toBe(false);
});

interface Metafile {
  inputs: Record<string, { imports: Array<{ path: string; kind: string; external?: boolean }> }>;
}

/**
 * The modules evaluated with `input`: its static imports, and theirs (dynamic `import()` not followed). In the
 * CommonJS bundle a module's code runs when the first module importing it statically runs (esbuild's lazy
 * initialisers), so this closure is what the Bitcoin review evaluates.
 */
function staticClosure(meta: Metafile, input: string): Set<string> {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const { path, kind, external } of meta.inputs[name]?.imports ?? [])
      if (kind === 'import-statement' && !external) visit(path);
  };
  visit(input);
  return seen;
}

let builtMeta: Metafile | undefined;
/** The module graph of one product build (built on first use, shared by the tests below). */
function productBuildGraph(): Metafile {
  if (builtMeta) return builtMeta;
  const out = join(dir, 'graph');
  const metafile = join(dir, 'graph-meta.json');
  const result = spawnSync(
    process.execPath,
    [join(ROOT, 'scripts', 'bundle.mjs'), '--out', out, '--metafile', metafile],
    { cwd: dir, encoding: 'utf8' },
  );
  expect(result.status, result.stderr).toBe(0);
  builtMeta = JSON.parse(readFileSync(metafile, 'utf8')) as Metafile;
  return builtMeta;
}

it('the Bitcoin review loads viem only for EIP-55 checksums and unit formatting, not its contract and ABI code', () => {
  const meta = productBuildGraph();
  const review = Object.keys(meta.inputs).find((name) => name.endsWith('appliance/review-words.ts'));
  expect(review).toBeDefined();
  const loaded = [...staticClosure(meta, review!)];
  // the checksum and the formatter are still viem's own (not a copy)
  expect(loaded.some((s) => /viem\/_esm\/utils\/address\/getAddress\.js$/.test(s))).toBe(true);
  expect(loaded.some((s) => /viem\/_esm\/utils\/unit\/formatUnits\.js$/.test(s))).toBe(true);
  // what the EVM code alone uses stays out of that closure
  expect(
    loaded.filter((s) => /viem\/_esm\/(actions|utils\/abi|utils\/transaction)\/|abitype\/|\/ox\//.test(s)),
  ).toEqual([]);
  // and the EVM code itself is reached from the bundle, so the check above looks at files that exist in it
  expect(Object.keys(meta.inputs).some((s) => /viem\/_esm\/utils\/abi\//.test(s))).toBe(true);
});

it("the script carries hash-wasm's Keccak build only, not its index of every algorithm's WebAssembly", () => {
  const hashWasm = Object.keys(productBuildGraph().inputs)
    .filter((s) => s.includes('node_modules/hash-wasm/'))
    .map((s) => s.slice(s.indexOf('node_modules/hash-wasm/')));
  expect(hashWasm).toEqual(['node_modules/hash-wasm/dist/keccak.umd.min.js']);
});

it("pkcs11js's exports are copied once (hsm/pkcs11js.ts), not once per module of the HSM layer that imports them", () => {
  const importers = Object.entries(productBuildGraph().inputs)
    .filter(([, input]) => input.imports.some(({ path }) => path === 'pkcs11js'))
    .map(([name]) => relative(ROOT, resolve(dir, name)));
  expect(importers).toEqual([join('hsm', 'pkcs11js.ts')]);
});

it('the script holds no copy of @bitcoinerlab/descriptors: the one instance is loaded on first use (core/btc-wallet.ts descriptorLibrary)', () => {
  const inputs = Object.keys(productBuildGraph().inputs);
  expect(inputs.filter((s) => s.includes('node_modules/@bitcoinerlab/descriptors'))).toEqual([]);
  // nor bitcoinjs-lib's CommonJS build, which only that library required
  expect(inputs.filter((s) => /node_modules\/bitcoinjs-lib\/src\/cjs\//.test(s))).toEqual([]);
  // while the ES module build the chain code imports is there (the checks above look at a real graph)
  expect(inputs.some((s) => /node_modules\/bitcoinjs-lib\/src\/esm\//.test(s))).toBe(true);
});

it("bitcoinjs-lib's SHA-256 is Node's native one in the script, and gives noble's digests as plain Uint8Arrays", () => {
  const inputs = Object.entries(productBuildGraph().inputs);
  const importersOf = (pattern: RegExp) =>
    inputs.filter(([, input]) => input.imports.some(({ path }) => pattern.test(path))).map(([name]) => name);
  const bitcoinjs = (names: string[]) =>
    names.filter((name) => name.includes('node_modules/bitcoinjs-lib/src/'));
  // the modules that hash with it (the cross-check's BIP-143 digest, txids) import the native one, none noble's
  expect(bitcoinjs(importersOf(/appliance\/bitcoinjs-sha256\.ts$/)).length).toBeGreaterThanOrEqual(2);
  expect(bitcoinjs(importersOf(/@noble\/hashes\/(esm\/)?sha256(\.js)?$/))).toEqual([]);
  // the same function: every padding edge of a 64-byte block, and longer messages
  for (const length of [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 18_036]) {
    const message = Uint8Array.from({ length }, (_, i) => (i * 131 + length) & 0xff);
    const native = nativeSha256ForBitcoinjs(message);
    expect(Buffer.isBuffer(native)).toBe(false);
    expect(native).toEqual(nobleSha256(message));
  }
});
