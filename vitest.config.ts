import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Each test file runs in its own process: SoftHSM2 is configured once per process (SOFTHSM2_CONF).
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
  },
});
