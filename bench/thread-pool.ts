/**
 * Benchmarks run under the libuv thread pool the `coldsign` launcher chooses (bin/thread-pool.cjs), so in-process
 * signing on SoftHSM2 is measured as the CLI runs it. Imported first by every benchmark: Node reads
 * UV_THREADPOOL_SIZE once, before this module could set it, so a benchmark started without it runs itself again
 * with it set (the same Node options and arguments) and exits with that run's status. bench/support.ts names the
 * pool's size in every write-up.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const { threadPoolSize } = createRequire(import.meta.url)('../bin/thread-pool.cjs') as {
  threadPoolSize: (env: NodeJS.ProcessEnv) => string;
};

if (!process.env.UV_THREADPOOL_SIZE) {
  const again = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, UV_THREADPOOL_SIZE: threadPoolSize(process.env) },
  });
  process.exit(again.status ?? 1);
}
