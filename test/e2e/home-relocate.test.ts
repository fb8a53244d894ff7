/**
 * The home's life: a copied or moved embedded home keeps working on its own token; a database and a token of
 * different homes are told apart; `init --module` creates a missing home, refuses a token that serves another
 * home and leaves nothing behind; an init killed at any moment leaves either no home or a whole one.
 * Real CLI processes, real SoftHSM2 (embedded, and as an external PKCS#11 token), real SQLite.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { findSoftHsmModule } from '../../hsm/softhsm.js';
import { BIN, createCliHome, type CliHome } from '../support/cli.js';
import { createTestToken } from '../support/softhsm.js';
import { errorCode } from './home-fixture.js';

const homes: CliHome[] = [];
function newHome(): CliHome {
  const cli = createCliHome();
  homes.push(cli);
  return cli;
}
afterAll(() => homes.forEach((h) => h.cleanup()));

describe('a copied or moved embedded home', () => {
  it('keeps working at its new place, each copy on its own token', () => {
    const cli = newHome();
    expect(cli.run(['init']).code).toBe(0);
    expect(cli.run(['keys', 'generate', '--chain', 'evm', '--label', 'vault-eth']).code).toBe(0);
    const original = cli.env.COLDSIGN_HOME!;
    const copy = join(cli.dir, 'copy');
    const moved = join(cli.dir, 'moved');
    cpSync(original, copy, { recursive: true });
    renameSync(original, moved);
    for (const home of [copy, moved]) {
      const verify = cli.run(['audit', 'verify'], { COLDSIGN_HOME: home });
      expect(verify.code, verify.stderr).toBe(0);
    }
    // Each copy now signs its own checkpoints: writing in one does not disturb the other.
    const more = cli.run(['keys', 'generate', '--chain', 'evm', '--label', 'only-in-copy'], {
      COLDSIGN_HOME: copy,
    });
    expect(more.code, more.stderr).toBe(0);
    expect(cli.run(['audit', 'verify'], { COLDSIGN_HOME: moved }).code).toBe(0);
    expect(cli.run(['audit', 'verify'], { COLDSIGN_HOME: copy }).code).toBe(0);
  });

  it('a database of one home with the token of another is named as such (HOME_MISMATCH, exit 6)', () => {
    const a = newHome();
    const b = newHome();
    expect(a.run(['init']).code).toBe(0);
    expect(b.run(['init']).code).toBe(0);
    cpSync(join(a.env.COLDSIGN_HOME!, 'coldsign.db'), join(b.env.COLDSIGN_HOME!, 'coldsign.db'));
    const result = b.run(['audit', 'verify', '--json']);
    expect(result.code).toBe(6);
    expect(errorCode(result.stdout)).toBe('HOME_MISMATCH');
    expect(result.stderr).toContain('belong to different coldsign homes');
  });
});

describe('init on an external PKCS#11 token', () => {
  const token = createTestToken('coldsign-ext');
  afterAll(() => token.cleanup());
  const external = { COLDSIGN_PIN: token.pin, SOFTHSM2_CONF: process.env.SOFTHSM2_CONF! };
  const args = ['init', '--module', findSoftHsmModule(), '--token', 'coldsign-ext', '--json'];

  it('creates a home that does not exist yet', () => {
    const cli = newHome();
    expect(existsSync(cli.env.COLDSIGN_HOME!)).toBe(false);
    const result = cli.run(args, external);
    expect(result.code, result.stderr).toBe(0);
    expect(cli.run(['audit', 'verify'], external).code).toBe(0);
  });

  it('refuses a token that serves another home, says what to do, and leaves nothing behind', () => {
    const cli = newHome();
    const result = cli.run(args, external);
    expect(result.code).toBe(2);
    expect(errorCode(result.stdout)).toBe('HSM_TOKEN_IN_USE');
    expect(result.stderr).toContain('set COLDSIGN_HOME');
    expect(existsSync(cli.env.COLDSIGN_HOME!)).toBe(false);
    expect(readdirSync(cli.dir)).toEqual([]);
  });
});

describe('an interrupted init', () => {
  it('killed at any moment leaves no home or a whole one, and init can run again', async () => {
    // Kill points spread over an init's run; whatever point is hit, the outcome must be one of the two.
    for (const afterMs of [50, 200, 400, 800]) {
      const cli = newHome();
      await new Promise<void>((resolve) => {
        const child = spawn(process.execPath, [BIN, 'init'], {
          env: { ...process.env, ...cli.env },
          stdio: 'ignore',
        });
        const timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
        child.on('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      const home = cli.env.COLDSIGN_HOME!;
      if (existsSync(home)) {
        const verify = cli.run(['audit', 'verify']);
        expect(verify.code, verify.stderr).toBe(0);
      } else {
        const again = cli.run(['init']);
        expect(again.code, again.stderr).toBe(0);
        expect(readdirSync(cli.dir)).toEqual(['home']); // the killed init's staging directory is gone
      }
    }
  });
});
