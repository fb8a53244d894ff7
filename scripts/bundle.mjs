// Bundles the CLI into dist/bundle/ with esbuild: main.cjs, one CommonJS script holding every command (a command's
// modules are evaluated only when it is run), which bin/coldsign loads through bin/load-bundle.cjs with the V8 code
// cache that scripts/code-cache.ts trains for it (docs/cli-startup.md); and audit-verify-worker.js, the audit
// verification worker (an ES module). Whitespace and syntax are minified (names kept). Native addons and zxing-wasm
// (whose .wasm file is read from the installed package) stay external.
//   node scripts/bundle.mjs [--out DIR] [--metafile FILE]
// --metafile writes esbuild's module graph of main.cjs (which file imports which, and how) to FILE, for the tests.
// The bundle is built into a fresh folder beside DIR and then put in DIR's place, so files of earlier builds (a code
// cache above all) never outlive their bundle and DIR always holds one whole build. An existing DIR that holds
// anything but a bundle is left alone.
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outIndex = process.argv.indexOf('--out');
const outdir = resolve(root, outIndex > 0 ? process.argv[outIndex + 1] : join('dist', 'bundle'));
const metafileIndex = process.argv.indexOf('--metafile');
const metafileOut = metafileIndex > 0 ? resolve(process.argv[metafileIndex + 1]) : undefined;

/**
 * A folder is replaced only when it is empty or was written by this script: its main.cjs (main.js in builds before
 * the CommonJS one) and nothing but scripts, their maps and a code cache.
 */
function isBundleDir(dir) {
  const names = readdirSync(dir);
  const hasMain = names.includes('main.cjs') || names.includes('main.js');
  return names.length === 0 || (hasMain && names.every((n) => /\.(c?js|c?js\.map|cjs\.cache)$/.test(n)));
}

/**
 * zod re-exports every one of its ~40 message locales as `z.locales` (and `z.core.locales`); coldsign only
 * uses the English messages zod configures by default, so the locale index is bundled as English alone.
 * That is a third of the zod chunk every unlock would otherwise parse.
 */
const englishOnlyZodLocales = {
  name: 'zod-english-only',
  setup(plugin) {
    const zodEnglish = createRequire(join(root, 'package.json'))
      .resolve('zod/v4/locales/en.js')
      .replace(/\.cjs$/, '.js');
    plugin.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/]/.test(args.importer)
        ? { path: 'zod-locales-english', namespace: 'zod-english-only' }
        : undefined,
    );
    plugin.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, () => ({
      contents: `export { default as en } from ${JSON.stringify(zodEnglish)};`,
      resolveDir: root,
    }));
  },
};

/**
 * esbuild splits the bundle into chunks by which entries reach each *file*, and viem's index file reaches
 * ~120 of viem's modules: a module that imports one function from `viem` ends up loading the chunk of everything
 * the EVM code uses from it. The Bitcoin review and the allowlist check need only EIP-55 `checksumAddress`, and
 * the display units only `formatUnits`, so these importers get viem's own files for those two functions, read
 * past viem's index. A Bitcoin sign then no longer loads 148 KB of viem, ox and abitype. A file not listed here
 * keeps importing viem's index; a listed file that imports any other name from viem fails the build ("No
 * matching export").
 */
const viemForNonEvmCode = {
  name: 'viem-two-functions',
  setup(plugin) {
    const viemIndex = createRequire(join(root, 'package.json')).resolve('viem');
    const esmDir = join(dirname(viemIndex), '..', '_esm');
    const files = {
      checksumAddress: join(esmDir, 'utils', 'address', 'getAddress.js'),
      formatUnits: join(esmDir, 'utils', 'unit', 'formatUnits.js'),
    };
    for (const file of Object.values(files))
      if (!existsSync(file)) throw new Error(`viem has moved ${file}; update scripts/bundle.mjs`);
    const importers =
      /[\\/](appliance[\\/]review-words|policy[\\/]allowlist-checks|chains[\\/]evm[\\/]units)\.ts$/;
    plugin.onResolve({ filter: /^viem$/ }, (args) =>
      importers.test(args.importer)
        ? { path: 'viem-two-functions', namespace: 'viem-two-functions' }
        : undefined,
    );
    plugin.onLoad({ filter: /.*/, namespace: 'viem-two-functions' }, () => ({
      contents: Object.entries(files)
        .map(([name, file]) => `export { ${name} } from ${JSON.stringify(file)};`)
        .join('\n'),
      resolveDir: root,
    }));
  },
};

/**
 * bitcoinjs-lib hashes with @noble/hashes' SHA-256, written in JavaScript, which runs unoptimized in a short-lived
 * CLI process: the signer's cross-check of a 500-input PSBT (bitcoinjs-lib's own BIP-143 digest, which hashes every
 * input's outpoint and sequence and every output) cost 19 ms of a sign's main thread. With Node's (OpenSSL) SHA-256
 * bound to the name `sha256` in bitcoinjs-lib's modules (its ES module build; the CommonJS build that
 * @bitcoinerlab/descriptors requires is not in the script, which loads that library from node_modules) it costs 5 ms (CPU profiles, docs/bench/cli.md). The same function with the
 * same Uint8Array result (test/unit/bundle-script.test.ts compares the two); every other importer of @noble/hashes
 * keeps noble's.
 */
const nativeSha256ForBitcoinjs = {
  name: 'bitcoinjs-native-sha256',
  setup(plugin) {
    plugin.onResolve({ filter: /^@noble\/hashes\/sha256(\.js)?$/ }, (args) =>
      /[\\/]bitcoinjs-lib[\\/]src[\\/]/.test(args.importer)
        ? { path: join(root, 'appliance', 'bitcoinjs-sha256.ts') }
        : undefined,
    );
  },
};

if (existsSync(outdir) && !isBundleDir(outdir)) {
  console.error(`${outdir} holds files that are not a CLI bundle; nothing was built or removed.`);
  process.exit(2);
}
const staging = join(dirname(outdir), `.${basename(outdir)}.building-${process.pid}`);
rmSync(staging, { recursive: true, force: true });
try {
  const common = {
    bundle: true,
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    external: ['pkcs11js', 'better-sqlite3', 'secp256k1', 'zxing-wasm'],
    plugins: [englishOnlyZodLocales, viemForNonEvmCode, nativeSha256ForBitcoinjs],
    // chains/evm/keccak.ts uses hash-wasm's Keccak alone: its index carries every algorithm's WebAssembly (229 KB of
    // the script every command loads); its own keccak build is 11 KB and exports the same createKeccak.
    alias: {
      'hash-wasm': createRequire(join(root, 'package.json')).resolve('hash-wasm/dist/keccak.umd.min.js'),
    },
    // Less source for V8 to parse; identifiers keep their names (no minifyIdentifiers), and the source maps still
    // point into the TypeScript.
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
  };
  // The CLI: a CommonJS script, because Node 20 keeps a V8 code cache only for scripts (vm.Script), not for ES
  // modules. The file is one function expression taking CommonJS's arguments and the script's own file URL (for
  // `import.meta.url`, which some modules resolve files against): bin/load-bundle.cjs compiles it as it is, with no
  // second copy of the source for a wrapper, and its "use strict" stays the first statement (strict mode, as the
  // ES modules it comes from).
  const cli = await build({
    ...common,
    metafile: metafileOut !== undefined,
    entryPoints: { main: join(root, 'cli/main.ts') },
    outdir: staging,
    outExtension: { '.js': '.cjs' },
    format: 'cjs',
    define: { 'import.meta.url': '__coldsignBundleUrl' },
    banner: { js: '(function (exports, require, module, __filename, __dirname, __coldsignBundleUrl) {' },
    footer: { js: '})' },
  });
  if (metafileOut) writeFileSync(metafileOut, JSON.stringify(cli.metafile));
  // The audit verification worker is an entry of its own, beside main.cjs (store/audit-verify.ts).
  await build({
    ...common,
    entryPoints: { 'audit-verify-worker': join(root, 'store/audit-verify-worker.ts') },
    outdir: staging,
    format: 'esm',
    // CommonJS dependencies call require() for Node built-ins: give the ES module bundle a require.
    banner: {
      js: "import { createRequire as __coldsignRequire } from 'node:module'; const require = __coldsignRequire(import.meta.url);",
    },
  });
  rmSync(outdir, { recursive: true, force: true });
  renameSync(staging, outdir);
} finally {
  rmSync(staging, { recursive: true, force: true });
}
