// The demo story (grows with the pipeline): a fresh embedded home, an HSM token, keys, and their listing.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const home = process.env.COLDSIGN_HOME;
const bin = join(import.meta.dirname, '..', 'bin', 'coldsign');
// Demo secrets only: a real operator types the PIN at the prompt.
const env = { ...process.env, COLDSIGN_PIN: process.env.COLDSIGN_PIN || 'demo-pin-1234' };

function coldsign(...args) {
  console.log(`\n$ coldsign ${args.join(' ')}`);
  const result = spawnSync(process.execPath, [bin, ...args], { env, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`demo: \`coldsign ${args.join(' ')}\` exited ${result.status}`);
    process.exit(result.status ?? 1);
  }
}

if (existsSync(home)) {
  console.log(`Starting over: removing the previous demo home ${home}`);
  rmSync(home, { recursive: true, force: true });
}
console.log(`coldsign demo — home ${home} (SoftHSM2 token and SQLite database inside it)`);
coldsign('init');
coldsign('keys', 'generate', '--chain', 'btc', '--label', 'vault-btc');
coldsign('keys', 'generate', '--chain', 'evm', '--label', 'vault-eth');
coldsign('keys', 'list');
console.log('\nDemo finished: keys were generated inside the HSM and never left it.');
