// Bundles the CLI into dist/bundle/ with esbuild: one ES module graph with a chunk per lazily loaded
// command, so start-up does not resolve hundreds of package files. Native addons and zxing-wasm (whose
// .wasm file is read from the installed package) stay external.
//   node scripts/bundle.mjs [--out DIR]
// The bundle is built into a fresh folder beside DIR and then put in DIR's place, so chunks of earlier builds never
// pile up and DIR always holds one whole build. An existing DIR that holds anything but a bundle is left alone.
import { build } from 'esbuild';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outIndex = process.argv.indexOf('--out');
const outdir = resolve(root, outIndex > 0 ? process.argv[outIndex + 1] : join('dist', 'bundle'));

/** A folder is replaced only when it is empty or was written by this script (its main.js and nothing but .js/.map). */
function isBundleDir(dir) {
  const names = readdirSync(dir);
  return names.length === 0 || (names.includes('main.js') && names.every((n) => /\.(js|js\.map)$/.test(n)));
}

if (existsSync(outdir) && !isBundleDir(outdir)) {
  console.error(`${outdir} holds files that are not a CLI bundle; nothing was built or removed.`);
  process.exit(2);
}
const staging = join(dirname(outdir), `.${basename(outdir)}.building-${process.pid}`);
rmSync(staging, { recursive: true, force: true });
try {
  await build({
    // The audit verification worker is an entry of its own, beside main.js (store/audit-verify.ts).
    entryPoints: {
      main: join(root, 'cli/main.ts'),
      'audit-verify-worker': join(root, 'store/audit-verify-worker.ts'),
    },
    outdir: staging,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    external: ['pkcs11js', 'better-sqlite3', 'secp256k1', 'zxing-wasm'],
    // CommonJS dependencies call require() for Node built-ins: give the ES module bundle a require.
    banner: {
      js: "import { createRequire as __coldsignRequire } from 'node:module'; const require = __coldsignRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  rmSync(outdir, { recursive: true, force: true });
  renameSync(staging, outdir);
} finally {
  rmSync(staging, { recursive: true, force: true });
}
