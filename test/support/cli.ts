/** Runs the real `bin/coldsign` in a child process with a temporary COLDSIGN_HOME. */
import { spawn, spawnSync } from 'node:child_process';
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
  /** As `run`, without blocking the test process: for independent cases run concurrently. */
  runAsync(args: string[], extraEnv?: Record<string, string | undefined>, input?: string): Promise<CliResult>;
  cleanup(): void;
}

function cliResult(code: number | null, stdout: string, stderr: string): CliResult {
  const out = { code: code ?? -1, stdout, stderr };
  return { ...out, json: () => JSON.parse(out.stdout) };
}

export function createCliHome(pin = '135790'): CliHome {
  const dir = mkdtempSync(join(tmpdir(), 'coldsign-cli-'));
  const env: Record<string, string> = { COLDSIGN_HOME: join(dir, 'home'), COLDSIGN_PIN: pin };
  const childEnv = (extraEnv: Record<string, string | undefined>): NodeJS.ProcessEnv => {
    const merged: Record<string, string | undefined> = { ...process.env, ...env, ...extraEnv };
    for (const [k, v] of Object.entries(extraEnv)) if (v === undefined) delete merged[k];
    return merged as NodeJS.ProcessEnv;
  };
  return {
    dir,
    env,
    run(args, extraEnv = {}, input) {
      const result = spawnSync(process.execPath, [BIN, ...args], {
        env: childEnv(extraEnv),
        cwd: dir,
        encoding: 'utf8',
        input: input ?? '',
        maxBuffer: 64 * 1024 * 1024,
      });
      return cliResult(result.status, result.stdout, result.stderr);
    },
    runAsync(args, extraEnv = {}, input) {
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [BIN, ...args], { env: childEnv(extraEnv), cwd: dir });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        child.on('error', reject);
        child.on('close', (code) => resolve(cliResult(code, stdout, stderr)));
        child.stdin.end(input ?? '');
      });
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The home's audit public key as `policy show --json` gives it: what a policy for it names as `appliance`. */
export function applianceKeyOf(cli: Pick<CliHome, 'run'>): string {
  const shown = cli.run(['policy', 'show', '--json']);
  const key = (JSON.parse(shown.stdout) as { appliance: string }).appliance;
  if (!/^0[23][0-9a-f]{64}$/.test(key)) throw new Error(`policy show gave no appliance key: ${shown.stdout}`);
  return key;
}

/** The audit public key `init` printed in its text output ('' when it printed none). */
export function auditKeyFromInit(stdout: string): string {
  return /Audit public key: (0[23][0-9a-f]{64})/.exec(stdout)?.[1] ?? '';
}
