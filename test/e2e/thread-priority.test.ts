/**
 * A real `coldsign` command that opens the HSM leaves its other threads (libuv's pool, where SoftHSM2 signs; V8's
 * helpers) a few nice steps below the main thread (hsm/thread-priority.ts, docs/hsm.md). Linux: a preload registered
 * before the launcher runs reads every thread's nice value when the process exits.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, createCliHome, type CliHome } from '../support/cli.js';
import { HANG_GUARD_MS } from '../support/hang-guard.js';
import { OTHER_THREADS_NICE_STEPS } from '../../hsm/thread-priority.js';

let cli: CliHome;
let preload: string;
beforeAll(() => {
  cli = createCliHome();
  expect(cli.run(['init']).code).toBe(0);
  preload = join(cli.dir, 'report-priorities.cjs');
  writeFileSync(
    preload,
    `const { readdirSync } = require('node:fs');
const { getPriority } = require('node:os');
process.on('exit', () => {
  const nice = {};
  for (const name of readdirSync('/proc/self/task')) {
    try { nice[name] = getPriority(Number(name)); } catch {}
  }
  process.stderr.write('\\npriorities=' + JSON.stringify({ main: nice[process.pid], nice }) + '\\n');
});\n`,
  );
});
afterAll(() => cli?.cleanup());

/** Runs `coldsign args` with the preload; the main thread's nice value and the other threads'. */
function priorities(args: string[]): { main: number; others: number[] } {
  const result = spawnSync(process.execPath, ['-r', preload, BIN, ...args], {
    env: { ...process.env, ...cli.env },
    encoding: 'utf8',
    timeout: HANG_GUARD_MS,
  });
  expect(result.status, result.stderr).toBe(0);
  const match = /\npriorities=(.*)\n$/.exec(result.stderr);
  expect(match, result.stderr).not.toBeNull();
  const { main, nice } = JSON.parse(match![1]!) as { main: number; nice: Record<string, number> };
  return {
    main,
    others: Object.entries(nice)
      .filter(([t]) => Number(t) !== result.pid)
      .map(([, n]) => n),
  };
}

describe.runIf(process.platform === 'linux')('thread priorities of a coldsign process', () => {
  it('a command that opens the HSM runs every other thread below the main thread', () => {
    const { main, others } = priorities(['keys', 'generate', '--chain', 'btc', '--label', 'vault-btc']);
    expect(main).toBe(0);
    expect(others.length).toBeGreaterThan(2);
    expect(others.filter((nice) => nice < OTHER_THREADS_NICE_STEPS)).toEqual([]);
  });

  it('a command that does not open the HSM changes no priority', () => {
    const { main, others } = priorities(['--help']);
    expect(main).toBe(0);
    expect(others.filter((nice) => nice !== 0)).toEqual([]);
  });
});
