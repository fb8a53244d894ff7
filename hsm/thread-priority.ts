/**
 * The main thread runs first (docs/hsm.md "The main thread runs first"). On a host whose cores SoftHSM2's signing
 * keeps busy, the main thread — which reviews each request, verifies each signature and hands the next one to the
 * HSM — is one runnable thread among libuv's pool threads, and waits for a core while the pool runs dry. So this
 * process's other threads (libuv's pool, where PKCS#11 calls run; V8's helpers) are given a lower priority, a few
 * nice steps below the main thread: they still use every core the main thread leaves, and give way when it wakes.
 * Linux only (a thread's nice value is its own there); lowering one's own threads needs no privilege.
 */
import { readdirSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { getPriority, setPriority } from 'node:os';

/** How many nice steps below the main thread the other threads run (5: about a third of its CPU share). */
export const OTHER_THREADS_NICE_STEPS = 5;
const LOWEST_PRIORITY = 19;

let lowered: Promise<void> | undefined;

/**
 * Lowers the priority of every thread of this process but the main one, once, after libuv's pool has started (an
 * asynchronous file system call starts it). Threads started later keep the main thread's priority. Never rejects:
 * where the threads cannot be listed or changed, nothing changes.
 */
export function favourMainThread(): Promise<void> {
  if (process.platform !== 'linux') return Promise.resolve();
  lowered ??= access('/proc/self/task').then(lowerOtherThreads, () => undefined);
  return lowered;
}

function lowerOtherThreads(): void {
  try {
    const target = Math.min(LOWEST_PRIORITY, getPriority(process.pid) + OTHER_THREADS_NICE_STEPS);
    for (const name of readdirSync('/proc/self/task')) {
      const thread = Number(name);
      if (thread === process.pid) continue;
      try {
        if (getPriority(thread) < target) setPriority(thread, target);
      } catch {
        // the thread has exited since the listing
      }
    }
  } catch {
    // no /proc or no permission: priorities stay as they are
  }
}
