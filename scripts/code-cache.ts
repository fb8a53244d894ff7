/**
 * Trains the V8 code cache of the CLI bundle (main.cjs.cache beside main.cjs, read by bin/load-bundle.cjs;
 * docs/cli-startup.md). Runs the commands an appliance runs — set-up, key generation, policy, a Bitcoin and an EVM
 * sign, inspect, hsm info, policy show, audit verify, help — on a throwaway embedded home (SoftHSM2 token and SQLite
 * in a temporary folder; bench/cli-home.ts), each through scripts/code-cache-train.cjs, which adds what the command
 * compiled to the cache. `npm run build` runs it after the bundle:
 *   npx tsx scripts/code-cache.ts [--bundle DIR]      (default dist/bundle)
 * The operator's own COLDSIGN_* settings and SOFTHSM2_CONF are dropped first: training never touches a configured
 * HSM or home (a login there with the training PIN would count against the token's PIN retries).
 * When a command fails (SoftHSM2 not installed, say), no cache is left and the build goes on: the CLI then
 * compiles its code at every start, about 100 ms slower per command (docs/cli-startup.md), and works the same.
 */
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBenchHome } from '../bench/cli-home.js';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const bundleIndex = process.argv.indexOf('--bundle');
const bundleDir = resolve(bundleIndex > 0 ? process.argv[bundleIndex + 1]! : join(root, 'dist', 'bundle'));
const trainer = join(root, 'scripts', 'code-cache-train.cjs');
const cacheFile = join(bundleDir, 'main.cjs.cache');

for (const name of Object.keys(process.env))
  if (name.startsWith('COLDSIGN_') || name === 'SOFTHSM2_CONF') delete process.env[name];
process.env.CODE_CACHE_BUNDLE = join(bundleDir, 'main.cjs'); // the bundle scripts/code-cache-train.cjs runs

rmSync(cacheFile, { force: true });
let dir: string | undefined;
try {
  const home = makeBenchHome(trainer);
  dir = home.dir;
  const out = (name: string) => join(home.dir, name);
  for (const args of [
    ['--help'],
    ['inspect', home.psbt1],
    ['sign', home.psbt1, '--out', out('one.signed'), '--force'],
    ['sign', home.evmTx, '--out', out('evm.signed'), '--force'],
    ['hsm', 'info'],
    ['policy', 'show'],
    ['audit', 'verify'],
  ])
    home.run(args, 0, trainer);
  console.log(`code cache trained: ${cacheFile}`);
} catch (error) {
  rmSync(cacheFile, { force: true });
  const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
  console.error(
    `coldsign build: no code cache (a training command failed: ${reason}); the CLI works without it, compiling its code at each start.`,
  );
} finally {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
