// The launcher of the build's training runs (scripts/code-cache.ts): runs one coldsign command as bin/coldsign does,
// from the code cache trained so far, then writes the cache again with every function this command compiled added
// (bin/load-bundle.cjs). Written beside, then renamed over the old one, so a reader never sees half a cache.
// CODE_CACHE_BUNDLE names the bundle (scripts/code-cache.ts sets it; default dist/bundle/main.cjs).
'use strict';
const { renameSync, writeFileSync } = require('node:fs');
const { BUNDLE_FILE, loadBundle } = require('../bin/load-bundle.cjs');

const bundleFile = process.env.CODE_CACHE_BUNDLE || BUNDLE_FILE;
const bundle = loadBundle(bundleFile);
bundle.exports.main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  const partial = `${bundleFile}.cache.${process.pid}`;
  writeFileSync(partial, bundle.makeCache());
  renameSync(partial, `${bundleFile}.cache`);
});
