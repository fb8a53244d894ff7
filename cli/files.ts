/** Reading inputs and writing outputs: atomic writes (temporary file, fsync, rename) so no partial output exists. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { makeError } from '../core/errors.js';
import type { InputFile } from '../core/pipeline/intake.js';
import { MAX_INPUT_BYTES } from '../core/pipeline/intake.js';

export { writeFileAtomic } from '../store/atomic-file.js';

export function readInputs(paths: string[]): InputFile[] {
  return paths.map((path) => {
    let size: number;
    try {
      const stat = statSync(path);
      if (!stat.isFile()) throw makeError('INPUT_NOT_FOUND', `${path} is not a file.`);
      size = stat.size;
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'ENOENT') {
        throw makeError('INPUT_NOT_FOUND', `${path} does not exist.`);
      }
      throw error;
    }
    if (size > MAX_INPUT_BYTES)
      throw makeError('INPUT_TOO_LARGE', `${path} is larger than ${MAX_INPUT_BYTES / (1024 * 1024)} MB.`);
    return { name: basename(path), bytes: new Uint8Array(readFileSync(path)) };
  });
}

export function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}
