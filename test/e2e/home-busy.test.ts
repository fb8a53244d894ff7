/**
 * One writer at a time on a home (exit 7, HOME_BUSY, after a message and a bounded wait); readers share.
 * Real CLI processes, real SoftHSM2 and SQLite; the lock held by this test process is the real lock
 * (store/home.ts acquireHomeLock), taken as another coldsign process would take it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { acquireHomeLock, resolveHome } from '../../store/home.js';
import { BIN } from '../support/cli.js';
import { createReadyHome, errorCode, transferRequest, type ReadyHome } from './home-fixture.js';

let home: ReadyHome;

beforeAll(() => {
  home = createReadyHome();
  writeFileSync(home.file('request.json'), JSON.stringify(transferRequest(home.ethAddress, '1000', 0)));
});
afterAll(() => home?.cli.cleanup());

function runAsync(args: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...home.cli.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
}

describe('the writer lock', () => {
  it('a second writer says it waits, then exits 7 with HOME_BUSY; a reader still works; nothing is lost', () => {
    const lock = acquireHomeLock(resolveHome({ COLDSIGN_HOME: home.cli.env.COLDSIGN_HOME }));
    try {
      const writer = home.cli.run(['inspect', home.file('request.json'), '--json'], {
        COLDSIGN_LOCK_WAIT: '1',
      });
      expect(writer.code).toBe(7);
      expect(errorCode(writer.stdout)).toBe('HOME_BUSY');
      expect(writer.stderr).toContain('waiting');
      expect(writer.stderr).toContain('busy: another coldsign process is using this home');
      const reader = home.cli.run(['keys', 'list', '--json']);
      expect(reader.code, reader.stderr).toBe(0);
    } finally {
      lock.release();
    }
    const after = home.cli.run(['inspect', home.file('request.json'), '--json']);
    expect(after.code, after.stderr).toBe(0);
    expect(home.cli.run(['audit', 'verify']).code).toBe(0);
  });

  it('two coldsign writers started together both finish (one waits for the other) and the log verifies', async () => {
    const wait = { COLDSIGN_LOCK_WAIT: '300' };
    const [a, b] = await Promise.all([
      runAsync(['keys', 'generate', '--chain', 'evm', '--label', 'together-a'], wait),
      runAsync(['keys', 'generate', '--chain', 'evm', '--label', 'together-b'], wait),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const labels = home.cli.run(['keys', 'list', '--json']).json<{ keys: Array<{ label: string }> }>();
    expect(labels.keys.map((k) => k.label)).toEqual(expect.arrayContaining(['together-a', 'together-b']));
    const verify = home.cli.run(['audit', 'verify']);
    expect(verify.code, verify.stderr).toBe(0);
  });
});
