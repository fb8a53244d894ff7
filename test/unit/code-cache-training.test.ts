/**
 * scripts/code-cache.ts trains the bundle's code cache on a throwaway home of its own (real SoftHSM2 and SQLite): the
 * bundle then starts from it, and an operator's configured HSM and home are never touched, even when set in the
 * environment of the build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';
import { runBundle } from '../support/bundle.js';

// Inside the repository: the bundle requires its native addons from node_modules.
mkdirSync(join(ROOT, '.tmp'), { recursive: true });
const dir = mkdtempSync(join(ROOT, '.tmp', 'training-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('makes a cache the bundle starts from, on its own home, whatever HSM and home the environment names', () => {
  const out = join(dir, 'bundle');
  const built = spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs'), '--out', out], {
    encoding: 'utf8',
  });
  expect(built.status, built.stderr).toBe(0);

  const operatorHome = join(dir, 'operator-home');
  const trained = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'scripts', 'code-cache.ts'), '--bundle', out],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        ...process.env,
        COLDSIGN_HOME: operatorHome,
        COLDSIGN_PKCS11_MODULE: join(dir, 'operator-hsm.so'),
        COLDSIGN_TOKEN: 'operator-token',
      },
    },
  );
  expect(trained.status, trained.stderr).toBe(0);
  expect(trained.stderr).not.toContain('no code cache');
  expect(trained.stdout).toContain('code cache trained');
  expect(existsSync(operatorHome)).toBe(false);

  expect(runBundle(join(out, 'main.cjs'), ['--help']).cacheUsed).toBe(true);
});
