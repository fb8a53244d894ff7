// Builds the desktop app with esbuild: renderer bundle (app/renderer/dist: app.js, decoder.worker.js, zxing .wasm,
// index.html, styles.css), Electron preload (app/dist/preload.cjs), main (app/dist/main.mjs) and the audit
// verification worker beside it (app/dist/audit-verify-worker.js, which main loads from its own folder as the CLI's
// bundle does: store/audit-verify.ts), and the browser test host's bridge shim (app/test-host/dist/shim.js).
// No network: everything comes from node_modules.
//   node scripts/app-build.mjs [--production] [--out DIR]
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const production = process.argv.includes('--production');
const outIndex = process.argv.indexOf('--out');

/** Node-only image codecs and the UR payload registries are replaced by a stub in browser bundles (see app/renderer/src/node-only-stub.ts). */
const nodeOnlyStub = {
  name: 'node-only-stub',
  setup(b) {
    b.onResolve(
      { filter: /^(pngjs|jpeg-js|@keystonehq\/bc-ur-registry|@keystonehq\/bc-ur-registry-eth)$/ },
      () => ({ path: join(root, 'app', 'renderer', 'src', 'node-only-stub.ts') }),
    );
  },
};

/** Worker scripts the main process starts from its own folder (entry name → app/dist/NAME.js). */
export const APP_WORKERS = { auditVerify: 'audit-verify-worker' };

/** Electron's main process and its worker threads: Node ES modules, packages loaded from node_modules. */
const mainProcess = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  external: ['electron'],
  logLevel: 'warning',
};

const browser = {
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'chrome120',
  sourcemap: production ? false : 'linked',
  minify: production,
  legalComments: 'none',
  inject: [join(root, 'app', 'renderer', 'src', 'node-globals.ts')],
  define: {
    global: 'globalThis',
    'process.env.NODE_DEBUG': 'false',
    'process.env.NODE_ENV': JSON.stringify(production ? 'production' : 'development'),
  },
  plugins: [nodeOnlyStub],
  logLevel: 'warning',
};

/**
 * Builds into the app's own folders, or with `out` into out/renderer, out/app and out/test-host (the tests build into a
 * directory of their own, so parallel test files never rebuild a bundle another one is serving).
 */
export async function buildApp(out) {
  const rendererDist = out ? join(out, 'renderer') : join(root, 'app', 'renderer', 'dist');
  const appDist = out ? join(out, 'app') : join(root, 'app', 'dist');
  const hostDist = out ? join(out, 'test-host') : join(root, 'app', 'test-host', 'dist');
  rmSync(rendererDist, { recursive: true, force: true });
  rmSync(appDist, { recursive: true, force: true });
  mkdirSync(rendererDist, { recursive: true });
  await Promise.all([
    build({ ...browser, entryPoints: { app: join(root, 'app/renderer/src/main.ts') }, outdir: rendererDist }),
    build({
      ...browser,
      entryPoints: { 'decoder.worker': join(root, 'app/renderer/src/scan/decoder.worker.ts') },
      outdir: rendererDist,
    }),
    // The shim needs no Node globals (and must not define a Buffer of its own in the page).
    build({
      ...browser,
      inject: [],
      plugins: [],
      format: 'iife',
      entryPoints: { shim: join(root, 'app/test-host/preload-shim.ts') },
      outdir: hostDist,
    }),
    build({
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['electron'],
      entryPoints: { preload: join(root, 'app/preload/preload.ts') },
      outExtension: { '.js': '.cjs' },
      outdir: appDist,
      logLevel: 'warning',
    }),
    build({
      ...mainProcess,
      entryPoints: { main: join(root, 'app/main/main.ts') },
      outExtension: { '.js': '.mjs' },
      outdir: appDist,
    }),
    // Named .js as store/audit-verify.ts looks for it; an ES module by the package.json written beside it.
    build({
      ...mainProcess,
      entryPoints: { [APP_WORKERS.auditVerify]: join(root, 'store/audit-verify-worker.ts') },
      outdir: appDist,
    }),
  ]);
  writeFileSync(join(appDist, 'package.json'), `${JSON.stringify({ type: 'module' })}\n`);
  copyFileSync(join(root, 'app/renderer/index.html'), join(rendererDist, 'index.html'));
  copyFileSync(join(root, 'app/renderer/styles.css'), join(rendererDist, 'styles.css'));
  copyFileSync(
    join(dirname(require.resolve('zxing-wasm/reader')), '..', '..', 'reader', 'zxing_reader.wasm'),
    join(rendererDist, 'zxing_reader.wasm'),
  );
  return { rendererDist, appDist, shimFile: join(hostDist, 'shim.js') };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const built = await buildApp(outIndex > 0 ? process.argv[outIndex + 1] : undefined);
  console.log(`Built the app: ${built.rendererDist}, ${built.appDist}, ${built.shimFile}.`);
}
