/**
 * The home as the front ends see it: where it is, whether it can be written, its writer lock, and the one way
 * files are written (atomically). The CLI reaches the store only through the appliance (ARCHITECTURE.md).
 */
export {
  isHomeWritable,
  isInitialized,
  readConfig,
  resolveHome,
  type ColdsignConfig,
  type Home,
} from '../store/home.js';
export { writeFileAtomic } from '../store/atomic-file.js';
