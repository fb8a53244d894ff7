/** Reading inputs and writing outputs: atomic writes (temporary file, fsync, rename) so no partial output exists. */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { makeError } from '../core/errors.js';
import type { InputFile } from '../core/pipeline/intake.js';
import { MAX_INPUT_BYTES } from '../core/pipeline/intake.js';
import { resolveHome, writeFileAtomic } from '../appliance/home.js';

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

/** The path with every existing ancestor's symbolic links resolved (the part that does not exist yet kept). */
function physicalPath(path: string): string {
  const absolute = resolve(path);
  let existing = absolute;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  try {
    return resolve(realpathSync(existing), relative(existing, absolute));
  } catch {
    return absolute;
  }
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Refuses an output path inside COLDSIGN_HOME (an output must never replace the database, config or
 * token files) and, unless `force`, an existing file. Call it before any work whose result it will hold.
 */
export function checkOutputPath(path: string, force = false): void {
  const home = physicalPath(resolveHome().dir);
  if (isInside(physicalPath(path), home)) {
    throw makeError(
      'OUTPUT_INSIDE_HOME',
      `${path} is inside the coldsign home ${home}; write outputs somewhere else (nothing was written).`,
    );
  }
  if (!force && existsSync(path) && !isDirectory(path)) {
    throw makeError(
      'OUTPUT_EXISTS',
      `${path} already exists; choose another file or add --force to replace it (nothing was written).`,
    );
  }
}

/** Writes an output file atomically after checkOutputPath. */
export function writeOutputFile(path: string, content: Uint8Array | string, force = false): void {
  checkOutputPath(path, force);
  writeFileAtomic(path, content);
}
