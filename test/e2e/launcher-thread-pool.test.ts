/**
 * bin/coldsign sizes libuv's thread pool (bin/thread-pool.cjs) before Node starts it: one thread per core (2 to 8)
 * unless the operator set UV_THREADPOOL_SIZE. Checked on the real launcher by counting the process's threads when it
 * exits (a preload registered before the launcher runs reads /proc/self/task): the pool's threads are the only ones
 * that change with the variable, so the difference to a run with a pool of 1 is the pool's size less one. Node's
 * default of 4 would show as 3 more threads than the 1-thread run, whatever the host. `--help` itself uses no pool
 * thread (the launcher reads the bundle synchronously), so the preload makes one file system call when the command is
 * done, which starts the pool if nothing did before; a pool started earlier keeps the size it started with.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { BIN, ROOT } from '../support/cli.js';
import { HANG_GUARD_MS } from '../support/hang-guard.js';

const { threadPoolSize } = createRequire(import.meta.url)(join(ROOT, 'bin', 'thread-pool.cjs')) as {
  threadPoolSize: (env: NodeJS.ProcessEnv) => string;
};

let dir: string;
let preload: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'coldsign-pool-'));
  preload = join(dir, 'count-threads.cjs');
  writeFileSync(
    preload,
    `let used = false;
process.on('beforeExit', () => { if (!used) { used = true; require('node:fs').stat(__filename, () => {}); } });
process.on('exit', () => process.stderr.write('threads=' + require('node:fs').readdirSync('/proc/self/task').length + ' pool=' + process.env.UV_THREADPOOL_SIZE + '\\n'));\n`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `coldsign --help` with the preload: the process's thread count at exit and the pool size it ran with. */
function helpRun(pool: string | undefined): { threads: number; pool: string } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.UV_THREADPOOL_SIZE;
  if (pool !== undefined) env.UV_THREADPOOL_SIZE = pool;
  const result = spawnSync(process.execPath, ['-r', preload, BIN, '--help'], {
    env,
    encoding: 'utf8',
    timeout: HANG_GUARD_MS,
  });
  expect(result.status).toBe(0);
  const match = /threads=(\d+) pool=(\S+)\n$/.exec(result.stderr);
  expect(match, result.stderr).not.toBeNull();
  return { threads: Number(match![1]), pool: match![2]! };
}

describe('the launcher sizes libuv’s thread pool', () => {
  it('one thread per core (2 to 8) when the operator set none, before the pool started', () => {
    const expected = Math.min(8, Math.max(2, availableParallelism()));
    expect(threadPoolSize({})).toBe(String(expected));
    const chosen = helpRun(undefined);
    const single = helpRun('1');
    expect(chosen.pool).toBe(String(expected));
    expect(single.pool).toBe('1');
    expect(chosen.threads - single.threads).toBe(expected - 1);
  });

  it('keeps the operator’s UV_THREADPOOL_SIZE', () => {
    const three = helpRun('3');
    const single = helpRun('1');
    expect(three.pool).toBe('3');
    expect(three.threads - single.threads).toBe(2);
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: '6' })).toBe('6');
  });
});
