/**
 * Opening the HSM lowers the priority of the process's other threads (libuv's pool, where SoftHSM2 signs; V8's
 * helpers) a few nice steps below the main thread, which keeps its own (hsm/thread-priority.ts). Linux: each
 * thread's nice value read from the real process after a real SoftHSM2 signature.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { getPriority } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestToken } from '../support/softhsm.js';
import { favourMainThread, OTHER_THREADS_NICE_STEPS } from '../../hsm/thread-priority.js';

const token = createTestToken('coldsign-priority');
afterAll(() => token.cleanup());

const niceOf = (thread: number) => getPriority(thread);
const otherThreads = () =>
  readdirSync('/proc/self/task')
    .map(Number)
    .filter((thread) => thread !== process.pid);

describe.runIf(process.platform === 'linux')('thread priorities', () => {
  it('after the HSM opens and signs, every other thread runs below the main thread, which keeps its own', async () => {
    const mainBefore = niceOf(process.pid);
    const hsm = token.open({ size: 2 });
    try {
      const key = await hsm.keys.generate('priority');
      await hsm.signer.signRaw(key.keyId, new Uint8Array(randomBytes(32)));
      await favourMainThread(); // the same promise Hsm.open started
      expect(niceOf(process.pid)).toBe(mainBefore);
      const others = otherThreads();
      // libuv's pool alone has UV_THREADPOOL_SIZE threads (4 by default), all started by now
      expect(others.length).toBeGreaterThanOrEqual(Number(process.env.UV_THREADPOOL_SIZE ?? 4));
      const expected = Math.min(19, mainBefore + OTHER_THREADS_NICE_STEPS);
      expect(others.map(niceOf).filter((nice) => nice < expected)).toEqual([]);
    } finally {
      hsm.close();
    }
  });
});
