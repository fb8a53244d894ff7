// Test preload (NODE_OPTIONS=--import): holds a coldsign process at its Nth write of the audit pin, so that a
// test can kill it there — a crash at a known point, with no race against the clock.
// COLDSIGN_TEST_HOLD_PIN_WRITE="N:after" holds just after the anchor record file is renamed into place (the pin
// is written); "N:before" holds just before (the new anchor key exists, the pin still holds the previous value).
// Holding: one line "coldsign-test: held at pin write N (after|before)" on stderr, then the thread blocks until
// the process is killed. Unset, nothing changes. The CLI bundle is CommonJS: it calls fs.renameSync through the
// module object patched here.
import fs from 'node:fs';

const spec = /^(\d+):(before|after)$/.exec(process.env.COLDSIGN_TEST_HOLD_PIN_WRITE ?? '');
if (spec) {
  const n = Number(spec[1]);
  const when = spec[2];
  let count = 0;
  const hold = () => {
    fs.writeSync(2, `coldsign-test: held at pin write ${n} (${when})\n`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  };
  const rename = fs.renameSync;
  fs.renameSync = function (from, to) {
    const pinWrite = String(to).endsWith('coldsign.db-anchor.json') && ++count === n;
    if (pinWrite && when === 'before') hold();
    const result = rename.call(this, from, to);
    if (pinWrite && when === 'after') hold();
    return result;
  };
}
