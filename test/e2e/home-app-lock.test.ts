/**
 * The desktop app and the writer lock: the app's session (app/main/writer-session.ts, the class Electron main and
 * the test host use) holds the home's writer lock while unlocked, so a CLI writer gets HOME_BUSY (exit 7) and a CLI
 * reader still works; locked, it lets the CLI write, and its next unlock reads what the CLI wrote and goes on
 * writing. `init` takes its lock too. Real CLI processes, real SoftHSM2 and SQLite, in this process the app's real
 * session class (no Electron window: the lock lives in the session, not in the window).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WriterLockedSession } from '../../app/main/writer-session.js';
import { isColdsignError } from '../../core/errors.js';
import { acquireHomeLock, acquireInitLock, resolveHome } from '../../store/home.js';
import { createCliHome, type CliHome } from '../support/cli.js';
import { errorCode } from './home-fixture.js';

let cli: CliHome;
const PIN = '135790';

beforeAll(() => {
  cli = createCliHome(PIN);
  const init = cli.run(['init']);
  expect(init.code, init.stderr).toBe(0);
}, 300_000);
afterAll(() => cli?.cleanup());

const labels = () =>
  cli
    .run(['keys', 'list', '--json'])
    .json<{ keys: Array<{ label: string }> }>()
    .keys.map((k) => k.label);

describe('the app holds the writer lock while unlocked', () => {
  it('a CLI writer gets HOME_BUSY (exit 7) while the app is unlocked; a CLI reader works', async () => {
    const app = new WriterLockedSession(cli.env.COLDSIGN_HOME);
    try {
      await app.unlock(PIN);
      expect(app.holdsWriterLock).toBe(true);
      const writer = cli.run(['keys', 'generate', '--chain', 'evm', '--label', 'from-cli', '--json'], {
        COLDSIGN_LOCK_WAIT: '1',
      });
      expect(writer.code).toBe(7);
      expect(errorCode(writer.stdout)).toBe('HOME_BUSY');
      expect(labels()).toEqual([]);
      await app.generateKey({ chain: 'evm', label: 'from-app' });
      expect(labels()).toEqual(['from-app']);
    } finally {
      await app.close();
    }
  });

  it('locked, the app lets the CLI write; its next unlock reads it and writes on without an alarm', async () => {
    const app = new WriterLockedSession(cli.env.COLDSIGN_HOME);
    try {
      await app.unlock(PIN);
      await app.lock();
      expect(app.holdsWriterLock).toBe(false);
      const written = cli.run(['keys', 'generate', '--chain', 'evm', '--label', 'cli-while-locked']);
      expect(written.code, written.stderr).toBe(0);
      const { keys, head } = await app.unlock(PIN);
      expect(keys.map((k) => k.label)).toContain('cli-while-locked');
      await app.generateKey({ chain: 'evm', label: 'app-after-cli' });
      expect((await app.auditVerify()).ok).toBe(true);
      expect(app.holdsWriterLock).toBe(true);
      expect(head.seq).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
    expect(cli.run(['audit', 'verify']).code).toBe(0);
    expect(labels()).toEqual(expect.arrayContaining(['cli-while-locked', 'app-after-cli']));
  });

  it('an app unlock while a CLI writer holds the home fails at once with HOME_BUSY, and works after', async () => {
    const app = new WriterLockedSession(cli.env.COLDSIGN_HOME);
    // This process takes the lock the way a writing CLI command does (store/home.ts acquireHomeLock).
    const held = acquireHomeLock(resolveHome({ COLDSIGN_HOME: cli.env.COLDSIGN_HOME }));
    try {
      const error = await app.unlock(PIN).catch((e: unknown) => e);
      expect(isColdsignError(error, 'HOME_BUSY')).toBe(true);
      expect(app.holdsWriterLock).toBe(false);
    } finally {
      held.release();
    }
    try {
      await app.unlock(PIN);
      expect(app.holdsWriterLock).toBe(true);
    } finally {
      await app.close();
    }
  });
});

describe('init takes a lock', () => {
  it('a second init of the same home waits for the first, then refuses (HOME_BUSY when it gives up)', () => {
    const fresh = createCliHome(PIN);
    try {
      const home = resolveHome({ COLDSIGN_HOME: fresh.env.COLDSIGN_HOME });
      const held = acquireInitLock(home);
      try {
        const busy = fresh.run(['init', '--json'], { COLDSIGN_LOCK_WAIT: '1' });
        expect(busy.code).toBe(7);
        expect(errorCode(busy.stdout)).toBe('HOME_BUSY');
        expect(busy.stderr).toContain('Another coldsign init is creating this home');
      } finally {
        held.release();
      }
      const first = fresh.run(['init']);
      expect(first.code, first.stderr).toBe(0);
      const second = fresh.run(['init', '--json']);
      expect(errorCode(second.stdout)).toBe('HOME_ALREADY_INITIALIZED');
    } finally {
      fresh.cleanup();
    }
  });
});
