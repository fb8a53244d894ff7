'use strict';
/**
 * The size of libuv's thread pool (UV_THREADPOOL_SIZE) for a coldsign process, chosen before Node starts the pool
 * (it reads the variable once, at its first use). On the embedded SoftHSM2 token every signature is computed on
 * that pool (C_Sign through pkcs11js), so more pool threads than cores only make the main thread, which dispatches,
 * verifies and reviews, wait for a core while signatures queue behind it (docs/hsm.md, "One pool thread per
 * core"). A network HSM signs in sign workers, not on the pool. Node's own default is 4 whatever the host.
 */
const { availableParallelism } = require('node:os');

/** The signatures a request keeps in flight (chains/btc/sign.ts): threads beyond them would idle. */
const MOST = 8;

/** The operator's UV_THREADPOOL_SIZE when set; else one thread per core, at least 2 and at most MOST. */
function threadPoolSize(env) {
  const set = env.UV_THREADPOOL_SIZE;
  if (set !== undefined && set !== '') return set;
  return String(Math.min(MOST, Math.max(2, availableParallelism())));
}

module.exports = { threadPoolSize };
