import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Each test file runs in its own process: SoftHSM2 is configured once per process (SOFTHSM2_CONF).
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Pure modules that read wallets get their descriptor library from the I/O layer, as in the product.
    setupFiles: ['store/descriptor-library.ts'],
    // Time-outs are a safety net against hangs, not a speed check: generous enough that a loaded
    // 2-core machine never trips them (a test whose outcome depends on machine speed is a failing test).
    testTimeout: 900_000,
    hookTimeout: 900_000,
    maxWorkers: 2,
  },
});
