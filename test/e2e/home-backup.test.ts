/**
 * `coldsign backup` and `coldsign restore`: a consistent copy of the home that restores into a new home and
 * verifies; the embedded token comes back with its anchor (the loud note), while a database restored under an
 * external HSM whose anchor moved on is a rollback alarm (exit 6). Real CLI, real SoftHSM2, real SQLite.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { findSoftHsmModule } from '../../hsm/softhsm.js';
import { createCliHome, type CliHome } from '../support/cli.js';
import { createTestToken } from '../support/softhsm.js';
import { errorCode } from './home-fixture.js';

const homes: CliHome[] = [];
afterAll(() => homes.forEach((h) => h.cleanup()));
const labels = (cli: CliHome, env: Record<string, string> = {}) =>
  cli
    .run(['keys', 'list', '--json'], env)
    .json<{ keys: Array<{ label: string }> }>()
    .keys.map((k) => k.label);

describe('the embedded home', () => {
  it('backs up, restores into a new home that verifies, and says loudly that the anchor comes back too', () => {
    const cli = createCliHome();
    homes.push(cli);
    expect(cli.run(['init']).code).toBe(0);
    expect(cli.run(['keys', 'generate', '--chain', 'evm', '--label', 'before']).code).toBe(0);
    const backup = cli.run(['backup', '--out', join(cli.dir, 'home.backup')]);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toContain('restores the anti-rollback anchor');
    expect(cli.run(['keys', 'generate', '--chain', 'evm', '--label', 'after']).code).toBe(0);

    const restoredHome = { COLDSIGN_HOME: join(cli.dir, 'restored') };
    const restored = cli.run(['restore', join(cli.dir, 'home.backup')], restoredHome);
    expect(restored.code, restored.stderr).toBe(0);
    const verify = cli.run(['audit', 'verify'], restoredHome);
    expect(verify.code, verify.stderr).toBe(0);
    expect(labels(cli, restoredHome)).toEqual(['before']);
    expect(labels(cli)).toEqual(['before', 'after']); // the original is untouched

    const inside = cli.run(['backup', '--out', join(cli.env.COLDSIGN_HOME!, 'b'), '--json']);
    expect(errorCode(inside.stdout)).toBe('OUTPUT_INSIDE_HOME');
    const again = cli.run(['restore', join(cli.dir, 'home.backup'), '--json'], restoredHome);
    expect(again.code).toBe(2);
  });
});

describe('a home on an external HSM', () => {
  const token = createTestToken('coldsign-bak');
  afterAll(() => token.cleanup());
  const env = { COLDSIGN_PIN: token.pin, SOFTHSM2_CONF: process.env.SOFTHSM2_CONF! };

  it('a restored database older than the HSM anchor is a rollback alarm (exit 6), not silently accepted', () => {
    const cli = createCliHome();
    homes.push(cli);
    const init = cli.run(['init', '--module', findSoftHsmModule(), '--token', 'coldsign-bak'], env);
    expect(init.code, init.stderr).toBe(0);
    expect(cli.run(['backup', '--out', join(cli.dir, 'db.backup')], env).code).toBe(0);
    expect(cli.run(['keys', 'generate', '--chain', 'evm', '--label', 'after'], env).code).toBe(0);
    const restoredHome = { ...env, COLDSIGN_HOME: join(cli.dir, 'restored') };
    expect(cli.run(['restore', join(cli.dir, 'db.backup')], restoredHome).code).toBe(0);
    const verify = cli.run(['audit', 'verify', '--json'], restoredHome);
    expect(verify.code).toBe(6);
    expect(errorCode(verify.stdout)).toBe('AUDIT_ROLLBACK');
  });
});
