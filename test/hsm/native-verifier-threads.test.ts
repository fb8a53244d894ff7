/**
 * The libsecp256k1 binding is loaded by the main thread only: it keeps its class in one process-wide
 * reference that a second loading thread overwrites (freeing the first thread's), which corrupted the heap when
 * sign workers loaded it (docs/hsm.md). A worker thread that imports the verifier gets the pure-JS one.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { verifierName } from '../../hsm/native-verifier.js';

describe('native verifier and threads', () => {
  it('the main thread verifies with libsecp256k1, a worker thread with @noble/curves', async () => {
    expect(verifierName).toBe('libsecp256k1');
    // The compiled module (vitest's global set-up builds dist/): a plain worker thread cannot load TypeScript.
    const url = new URL('../../dist/hsm/native-verifier.js', import.meta.url).href;
    const worker = new Worker(
      `import(${JSON.stringify(url)}).then((m) => require('node:worker_threads').parentPort.postMessage(m.verifierName));`,
      { eval: true },
    );
    const [name] = (await once(worker, 'message')) as [string];
    await worker.terminate();
    expect(name).toBe('@noble/curves');
  });
});
