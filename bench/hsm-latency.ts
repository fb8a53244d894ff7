/**
 * Benchmarks only: a network HSM's round trip modelled inside the PKCS#11 calls of the main-thread path.
 * C_SignInit is synchronous in pkcs11js, so its delay blocks the calling thread (Atomics.wait), as a real
 * network call would; C_SignAsync already runs on libuv's thread pool, so its delay is a wait after the call.
 * (The worker path holds both delays inside the worker's own calls: hsm/sign-workers.ts `latencyMs`.)
 */
import type pkcs11js from 'pkcs11js';
import { setTimeout as sleep } from 'node:timers/promises';

const cell = new Int32Array(new SharedArrayBuffer(4));

export function blockFor(ms: number): void {
  Atomics.wait(cell, 0, 0, ms);
}

export function withSignLatency(native: pkcs11js.PKCS11, ms: number): pkcs11js.PKCS11 {
  return new Proxy(native, {
    get(target, prop, receiver) {
      if (prop === 'C_SignInit')
        return (...args: Parameters<pkcs11js.PKCS11['C_SignInit']>) => {
          blockFor(ms);
          return target.C_SignInit(...args);
        };
      if (prop === 'C_SignAsync')
        return async (...args: Parameters<pkcs11js.PKCS11['C_SignAsync']>) => {
          const result = await target.C_SignAsync(...args);
          await sleep(ms);
          return result;
        };
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
