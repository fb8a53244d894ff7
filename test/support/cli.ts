/** Runs the real `bin/coldsign` in a child process with a temporary COLDSIGN_HOME. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'coldsign');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  json<T = Record<string, unknown>>(): T;
}

export interface CliHome {
  dir: string;
  env: Record<string, string>;
  run(args: string[], extraEnv?: Record<string, string | undefined>, input?: string): CliResult;
  cleanup(): void;
}

export function createCliHome(pin = '135790'): CliHome {
  const dir = mkdtempSync(join(tmpdir(), 'coldsign-cli-'));
  const env: Record<string, string> = { COLDSIGN_HOME: join(dir, 'home'), COLDSIGN_PIN: pin };
  return {
    dir,
    env,
    run(args, extraEnv = {}, input) {
      const childEnv: Record<string, string | undefined> = { ...process.env, ...env, ...extraEnv };
      for (const [k, v] of Object.entries(extraEnv)) if (v === undefined) delete childEnv[k];
      const result = spawnSync(process.execPath, [BIN, ...args], {
        env: childEnv as NodeJS.ProcessEnv,
        cwd: dir,
        encoding: 'utf8',
        input: input ?? '',
        maxBuffer: 64 * 1024 * 1024,
      });
      const out = { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
      return { ...out, json: () => JSON.parse(out.stdout) };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
