/** Runs a CLI bundle through the launcher's loader (bin/load-bundle.cjs) in a fresh process. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ROOT } from './cli.js';

const LOADER = join(ROOT, 'bin', 'load-bundle.cjs');

/** `coldsign args` from `bundle`: whether its code cache was used, and what the command wrote to stdout. */
export function runBundle(bundle: string, args: string[]): { cacheUsed: boolean; stdout: string } {
  const script = `
    const bundle = require(${JSON.stringify(LOADER)}).loadBundle(${JSON.stringify(bundle)});
    let stdout = '';
    process.stdout.write = (chunk) => { stdout += chunk; return true; };
    bundle.exports.main(${JSON.stringify(args)}).then(() => {
      process.stderr.write(JSON.stringify({ cacheUsed: bundle.cacheUsed, stdout }));
    });`;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stderr) as { cacheUsed: boolean; stdout: string };
}
