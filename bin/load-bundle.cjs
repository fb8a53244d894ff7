// Loads the CLI bundle (dist/bundle/main.cjs, one CommonJS script: scripts/bundle.mjs) with the V8 code cache the
// build trained for it (scripts/code-cache.ts), so a command starts without parsing and compiling the code it runs
// (docs/cli-startup.md). The cache file is the SHA-256 of the bundle it was made for, the SHA-256 of V8's data, and
// that data. It is used only when both hashes hold (V8 itself checks no more than the source's length, and may not
// checksum its data) and V8 accepts the data (same V8 version and flags); otherwise the bundle is compiled as usual.
// Nothing here writes a cache.
'use strict';
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { Script } = require('node:vm');

/** The CLI bundle that bin/coldsign runs (and the build's training, by default). */
const BUNDLE_FILE = join(__dirname, '..', 'dist', 'bundle', 'main.cjs');

const HASH_BYTES = 32;

const sha256 = (bytes) => createHash('sha256').update(bytes).digest();

/** The cache's V8 data when `cacheFile` is whole and was made for the source of `sourceHash`, else undefined. */
function cachedDataFor(sourceHash, cacheFile) {
  let cache;
  try {
    cache = readFileSync(cacheFile);
  } catch {
    return undefined; // no cache: compile
  }
  const data = cache.subarray(2 * HASH_BYTES);
  const made = cache.subarray(0, HASH_BYTES).equals(sourceHash);
  const whole = data.length > 0 && cache.subarray(HASH_BYTES, 2 * HASH_BYTES).equals(sha256(data));
  return made && whole ? data : undefined;
}

/**
 * Runs the bundle `file` (one function expression taking CommonJS's arguments and its own file URL, built by
 * scripts/bundle.mjs) and returns its exports, whether the code cache was used, and a function giving a fresh cache
 * for it (the hashes and V8's data for every function compiled so far).
 */
function loadBundle(file) {
  const text = readFileSync(file, 'utf8');
  const sourceHash = sha256(text);
  const cachedData = cachedDataFor(sourceHash, `${file}.cache`);
  const script = new Script(text, { filename: file, cachedData });
  const module = { exports: {} };
  script
    .runInThisContext()
    .call(
      module.exports,
      module.exports,
      createRequire(file),
      module,
      file,
      dirname(file),
      pathToFileURL(file).href,
    );
  return {
    exports: module.exports,
    cacheUsed: cachedData !== undefined && !script.cachedDataRejected,
    makeCache: () => {
      const data = script.createCachedData();
      return Buffer.concat([sourceHash, sha256(data), data]);
    },
  };
}

module.exports = { BUNDLE_FILE, loadBundle };
