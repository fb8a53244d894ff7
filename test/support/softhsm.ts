/**
 * SoftHSM2 harness for tests: a fresh, isolated token (own softhsm2.conf and token directory) per
 * test file. Vitest runs each file in its own process, so each file gets its own module initialization.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hsm } from '../../hsm/index.js';
import type { SessionPoolOptions } from '../../hsm/session-pool.js';
import { findSoftHsmModule, initSoftHsmToken, useSoftHsmHome } from '../../hsm/softhsm.js';

export const TEST_PIN = '246810';
export const TEST_SO_PIN = '13579135';
export const TEST_TOKEN = 'coldsign-test';

export interface TestToken {
  home: string;
  module: string;
  token: string;
  pin: string;
  open(options?: SessionPoolOptions): Hsm;
  cleanup(): void;
}

/** Creates a fresh SoftHSM2 token in a temporary home. Call once per test file (one per process). */
export function createTestToken(label = TEST_TOKEN): TestToken {
  const home = mkdtempSync(join(tmpdir(), 'coldsign-hsm-'));
  useSoftHsmHome(home);
  const module = findSoftHsmModule();
  initSoftHsmToken(module, label, TEST_SO_PIN, TEST_PIN);
  return {
    home,
    module,
    token: label,
    pin: TEST_PIN,
    open: (options) => Hsm.open({ module, token: label }, TEST_PIN, options),
    cleanup: () => rmSync(home, { recursive: true, force: true }),
  };
}
