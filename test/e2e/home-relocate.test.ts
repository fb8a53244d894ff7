/**
 * The home's life: a copied or moved embedded home keeps working on its own token; a database and a token of
 * different homes are told apart; `init --module` creates a missing home, refuses a token that serves another
 * home and leaves nothing behind; an init killed at each of its stages (held there by COLDSIGN_TEST_HOLD_INIT, so
 * the kill lands exactly there on any machine) leaves either no home or a whole one, and init can run again.
 * Real CLI processes, real SoftHSM2 (embedded, and as an external PKCS#11 token), real SQLite.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { INIT_STAGES, type InitStage } from '../../appliance/stage-hold.js';
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

/**
 * Runs a real `init` held at `stage` (COLDSIGN_TEST_HOLD_INIT, appliance/stage-hold.ts), checks what exists while
 * it is held, then kills it with `signal`. Resolves with how the process ended; rejects if it ends on its own.
 */
function initHeldAndKilled(
  cli: CliHome,
  stage: InitStage,
  signal: NodeJS.Signals,
  whileHeld: () => void,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'init'], {
      env: { ...process.env, ...cli.env, COLDSIGN_TEST_HOLD_INIT: stage },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let held = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!held && stderr.includes(`coldsign: init held at ${stage}\n`)) {
        held = true;
        try {
          whileHeld();
        } catch (error) {
          child.kill('SIGKILL');
          reject(error as Error);
          return;
        }
        child.kill(signal);
      }
    });
    child.on('exit', (code, endSignal) => {
      if (held) resolve({ code, signal: endSignal });
      else reject(new Error(`init ended before it was held at ${stage} (code ${code}): ${stderr}`));
    });
  });
}

describe('an interrupted init', () => {
  const lockName = '.home.init.lock';
  const isStaging = (name: string) => name.startsWith('.home.init-');
  const beforeRename = INIT_STAGES.filter((stage) => stage !== 'renamed');

  // Each stage of an init in turn: the kill comes exactly there, however fast or loaded the machine is.
  for (const stage of beforeRename) {
    it(`SIGKILLed when held at "${stage}" leaves no home; the init lock it leaves does not block a new init`, async () => {
      const cli = newHome();
      const home = cli.env.COLDSIGN_HOME!;
      const ended = await initHeldAndKilled(cli, stage, 'SIGKILL', () => {
        const names = readdirSync(cli.dir);
        expect(names).toContain(lockName);
        expect(existsSync(home)).toBe(false);
        // from "staged" on, the home is being built beside it (and is whole, config and all, at "configured")
        const staging = names.filter(isStaging);
        expect(staging).toHaveLength(stage === 'locked' ? 0 : 1);
        if (stage === 'token') expect(readdirSync(join(cli.dir, staging[0]!))).toContain('softhsm-tokens');
        if (stage === 'anchored' || stage === 'configured')
          expect(readdirSync(join(cli.dir, staging[0]!))).toContain('coldsign.db');
        if (stage === 'configured') expect(readdirSync(join(cli.dir, staging[0]!))).toContain('config.json');
      });
      expect(ended.signal).toBe('SIGKILL');
      expect(existsSync(home)).toBe(false);
      expect(readdirSync(cli.dir)).toContain(lockName); // SIGKILL left no chance to remove it

      // No waiting allowed: a lock that outlived its process would make this init exit 7 (HOME_BUSY).
      const again = cli.run(['init', '--json'], { COLDSIGN_LOCK_WAIT: '0' });
      expect(again.code, again.stderr).toBe(0);
      expect(readdirSync(cli.dir)).toEqual(['home']); // the killed init's staging directory and lock are gone
      const verify = cli.run(['audit', 'verify']);
      expect(verify.code, verify.stderr).toBe(0);
    });
  }

  it('SIGKILLed just after the rename leaves a whole home that opens and that init refuses to redo', async () => {
    const cli = newHome();
    const home = cli.env.COLDSIGN_HOME!;
    const ended = await initHeldAndKilled(cli, 'renamed', 'SIGKILL', () => {
      expect(existsSync(join(home, 'config.json'))).toBe(true);
      expect(readdirSync(cli.dir).filter(isStaging)).toEqual([]);
    });
    expect(ended.signal).toBe('SIGKILL');
    // The token conf still named the staging path: opening the home points it at the home's own tokens.
    const verify = cli.run(['audit', 'verify'], { COLDSIGN_LOCK_WAIT: '0' });
    expect(verify.code, verify.stderr).toBe(0);
    const again = cli.run(['init', '--json'], { COLDSIGN_LOCK_WAIT: '0' });
    expect(again.code).toBe(2);
    expect(errorCode(again.stdout)).toBe('HOME_ALREADY_INITIALIZED');
    const key = cli.run(['keys', 'generate', '--chain', 'evm', '--label', 'after-crash'], {
      COLDSIGN_LOCK_WAIT: '0',
    });
    expect(key.code, key.stderr).toBe(0);
  });

  it('the lock an init killed after its rename leaves is kept while an init runs, and removed by the next writer', async () => {
    const cli = newHome();
    const ended = await initHeldAndKilled(cli, 'renamed', 'SIGKILL', () => {
      // the held init is alive and holds its lock: a second init refuses the whole home and leaves the lock be
      const second = cli.run(['init', '--json'], { COLDSIGN_LOCK_WAIT: '0' });
      expect(errorCode(second.stdout)).toBe('HOME_ALREADY_INITIALIZED');
      expect(readdirSync(cli.dir)).toContain(lockName);
    });
    expect(ended.signal).toBe('SIGKILL');
    expect(readdirSync(cli.dir)).toContain(lockName); // (with its journal, killed inside its transaction)
    // its owner is dead: the next writer (an unlock, here `keys generate`) takes it over and removes it
    const key = cli.run(['keys', 'generate', '--chain', 'evm', '--label', 'after-crash'], {
      COLDSIGN_LOCK_WAIT: '0',
    });
    expect(key.code, key.stderr).toBe(0);
    expect(readdirSync(cli.dir)).toEqual(['home']);
  });

  it('a dead init’s lock beside a whole home is removed by an init that refuses the home', async () => {
    const cli = newHome();
    await initHeldAndKilled(cli, 'renamed', 'SIGKILL', () => {});
    expect(readdirSync(cli.dir)).toContain(lockName);
    const again = cli.run(['init', '--json'], { COLDSIGN_LOCK_WAIT: '0' });
    expect(errorCode(again.stdout)).toBe('HOME_ALREADY_INITIALIZED');
    expect(readdirSync(cli.dir)).toEqual(['home']);
  });

  it('SIGTERMed while held removes its staging directory and exits 130; init then runs again', async () => {
    const cli = newHome();
    const ended = await initHeldAndKilled(cli, 'anchored', 'SIGTERM', () => {
      expect(readdirSync(cli.dir).filter(isStaging)).toHaveLength(1);
    });
    expect(ended.code).toBe(130);
    expect(existsSync(cli.env.COLDSIGN_HOME!)).toBe(false);
    expect(readdirSync(cli.dir).filter(isStaging)).toEqual([]);
    const again = cli.run(['init'], { COLDSIGN_LOCK_WAIT: '0' });
    expect(again.code, again.stderr).toBe(0);
    expect(readdirSync(cli.dir)).toEqual(['home']);
  });
});
