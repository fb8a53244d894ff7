/**
 * `scripts/app-dev.sh` entry: serves the renderer to a browser on 127.0.0.1 (random port) against the real appliance
 * of COLDSIGN_HOME, through the same IPC contract as Electron main. Development only: no Electron hardening applies
 * in a plain browser (the CSP and the sender check do).
 */
import { ApplianceSession } from '../../appliance/session.js';
import { resolveHome } from '../../store/home.js';
import { startTestHost } from './server.js';

const session = new ApplianceSession(resolveHome().dir);
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
