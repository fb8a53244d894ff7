/**
 * CKM_ECDSA signing off the main thread: worker threads that each own one PKCS#11 session and run
 * C_SignInit + C_Sign together, so the round trips of a network HSM overlap instead of queueing behind the
 * synchronous C_SignInit on the event loop. PKCS#11 v2.40 §5.4/§5.6: the library is initialized once per
 * process (a worker's C_Initialize answers CKR_CRYPTOKI_ALREADY_INITIALIZED and never finalizes), the login
 * is shared by every session of the process, and object handles are valid in all of them.
 * The worker body is a small CommonJS string (no separate file to bundle); it loads pkcs11js by the path
 * resolved here. It loads no other native addon: the `secp256k1` binding keeps one process-wide JavaScript
 * reference that each thread's load overwrites (deleting the reference of another, possibly finished, thread),
 * which corrupted the heap when workers were started again (docs/hsm.md, "Sign workers"). Signatures are
 * verified on the main thread.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { makeError } from '../core/errors.js';
import { pkcs11Error } from './pkcs11-errors.js';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const pkcs11js = require(workerData.pkcs11jsPath);
const pkcs11 = new pkcs11js.PKCS11();
pkcs11.load(workerData.module);
try { pkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK }); } catch (e) {
  if (e.code !== pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) throw e;
}
const latency = workerData.latencyMs > 0 ? new Int32Array(new SharedArrayBuffer(4)) : undefined;
const hold = () => { if (latency) Atomics.wait(latency, 0, 0, workerData.latencyMs); };
const openSession = () => pkcs11.C_OpenSession(Buffer.from(workerData.slot), pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
let session = openSession();
const mechanism = { mechanism: pkcs11js.CKM_ECDSA };
const sign = (job) => {
  hold();
  pkcs11.C_SignInit(session, mechanism, Buffer.from(job.key));
  hold();
  return new Uint8Array(pkcs11.C_Sign(session, Buffer.from(job.digest), Buffer.alloc(72)));
};
// A session closed underneath (a network HSM's connection dropped) is opened again once; the login is the process's.
const lost = (e) => e && (e.code === pkcs11js.CKR_SESSION_HANDLE_INVALID || e.code === pkcs11js.CKR_SESSION_CLOSED);
parentPort.on('message', (job) => {
  if (job.close) { try { pkcs11.C_CloseSession(session); } catch {} parentPort.close(); return; }
  try {
    let bytes;
    try { bytes = sign(job); } catch (e) {
      if (!lost(e)) throw e;
      try { pkcs11.C_CloseSession(session); } catch {}
      session = openSession();
      bytes = sign(job);
    }
    parentPort.postMessage({ id: job.id, signature: bytes });
  } catch (e) {
    parentPort.postMessage({ id: job.id, error: { message: String(e && e.message), code: e && e.code } });
  }
});
parentPort.postMessage({ ready: true });
`;

interface Job {
  id: number;
  key: Uint8Array;
  digest: Uint8Array;
  resolve: (signature: Uint8Array) => void;
  reject: (error: unknown) => void;
}

export interface SignWorkerOptions {
  module: string;
  slot: Buffer;
  count: number;
  /** Benchmarks only: milliseconds held inside C_SignInit and again inside C_Sign (a network HSM's round trip). */
  latencyMs?: number;
}

export class SignWorkers {
  private readonly idle: Worker[] = [];
  private readonly queue: Job[] = [];
  private readonly running = new Map<Worker, Job>();
  private nextId = 0;
  private closed = false;

  private constructor(private readonly workers: Worker[]) {}

  /** Starts `count` workers, each with its own session on `slot` (the process must already be logged in). */
  static async start(options: SignWorkerOptions): Promise<SignWorkers> {
    const pkcs11jsPath = createRequire(import.meta.url).resolve('pkcs11js');
    const workers = Array.from(
      { length: Math.max(1, options.count) },
      () =>
        new Worker(WORKER_SOURCE, {
          eval: true,
          workerData: {
            pkcs11jsPath,
            module: options.module,
            slot: options.slot,
            latencyMs: options.latencyMs ?? 0,
          },
        }),
    );
    const pool = new SignWorkers(workers);
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            worker.once('error', reject);
            worker.once('message', () => resolve());
          }),
      ),
    );
    for (const worker of workers) {
      worker.on(
        'message',
        (message: { id: number; signature?: Uint8Array; error?: { message: string; code?: number } }) =>
          pool.settle(worker, message),
      );
      pool.idle.push(worker);
    }
    return pool;
  }

  /** Raw CKM_ECDSA r‖s of a 32-byte digest with the private key `keyHandle` (not verified: the caller does). */
  sign(keyHandle: Buffer, digest: Uint8Array): Promise<Uint8Array> {
    if (this.closed)
      return Promise.reject(makeError('HSM_SESSION_LOST', 'The HSM signing workers are closed.'));
    return new Promise((resolve, reject) => {
      this.queue.push({
        id: this.nextId++,
        key: new Uint8Array(keyHandle),
        digest,
        resolve,
        reject,
      });
      this.dispatch();
    });
  }

  /**
   * Stops the workers at once (the connection closes without awaiting close()); resolves when every worker
   * has exited, after any PKCS#11 call it was in: only then may the module be finalized.
   */
  async terminate(): Promise<void> {
    this.refuseQueued();
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.refuseQueued();
    await Promise.all(
      this.workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            worker.once('exit', () => resolve());
            worker.postMessage({ close: true });
          }),
      ),
    );
  }

  /** Closes the pool to new jobs and rejects those still waiting for a worker. */
  private refuseQueued(): void {
    this.closed = true;
    for (const job of this.queue.splice(0))
      job.reject(makeError('HSM_SESSION_LOST', 'The HSM signing workers closed.'));
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop() as Worker;
      const job = this.queue.shift() as Job;
      this.running.set(worker, job);
      worker.postMessage({ id: job.id, key: job.key, digest: job.digest });
    }
  }

  private settle(
    worker: Worker,
    message: { signature?: Uint8Array; error?: { message: string; code?: number } },
  ): void {
    const job = this.running.get(worker);
    this.running.delete(worker);
    this.idle.push(worker);
    if (job) {
      if (message.signature) job.resolve(message.signature);
      else
        job.reject(
          pkcs11Error(
            Object.assign(new Error(message.error?.message), { code: message.error?.code }),
            'C_Sign',
          ),
        );
    }
    this.dispatch();
  }
}
