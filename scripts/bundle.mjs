// Bundles the CLI into dist/bundle/ with esbuild: one ES module graph with a chunk per lazily loaded
// command, so start-up does not resolve hundreds of package files. Native addons and zxing-wasm (whose
// .wasm file is read from the installed package) stay external.
import { build } from 'esbuild';

await build({
  // The audit verification worker is an entry of its own, beside main.js (store/audit-verify.ts).
  entryPoints: { main: 'cli/main.ts', 'audit-verify-worker': 'store/audit-verify-worker.ts' },
  outdir: 'dist/bundle',
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
