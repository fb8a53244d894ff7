/**
 * `scripts/app-dev.sh` entry: serves the renderer to a browser on 127.0.0.1 (random port, per-run token) against the
 * throwaway home the script made (another home only with COLDSIGN_DEV_REAL_HOME=1), through the same IPC contract as
 * Electron main. Development only: no Electron hardening applies
 * in a plain browser (the CSP and the sender check do).
 */
import { WriterLockedSession } from '../main/writer-session.js';
import { resolveHome } from '../../store/home.js';
import { devHomeRefusal } from './dev-home.js';
import { startTestHost } from './server.js';

const homeDir = resolveHome().dir;
const refusal = devHomeRefusal(homeDir, process.env);
if (refusal) {
  console.error(`coldsign app:dev: ${refusal}`);
  process.exit(2);
}
const session = new WriterLockedSession(homeDir);
const host = await startTestHost({ api: session });
console.log(`coldsign renderer (dev) at ${host.url} — home ${session.home.dir}. Ctrl+C to stop.`);

const stop = () => {
  void host
    .close()
    .then(() => session.close())
    .finally(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
