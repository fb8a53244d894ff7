/**
 * The home as the CLI sees it: where it is, whether it can be written, its configuration, and the one way files are
 * written (atomically). Only what cli/ uses: the ESLint layer rules let cli/ reach the store through appliance/ only.
 */
export { isHomeWritable, readConfig, resolveHome } from '../store/home.js';
export { writeFileAtomic } from '../store/atomic-file.js';
