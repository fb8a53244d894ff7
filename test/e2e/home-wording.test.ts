/**
 * Error wording found by trying coldsign as a new operator: a missing PIN, usage errors that point to the
 * subcommand's own help, a mistyped option, a mistyped COLDSIGN_HOME, and Ctrl-D at the PIN prompt (a real
 * pseudo-terminal made with Python's pty module drives the prompt).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BIN, createCliHome, type CliHome } from '../support/cli.js';
import { errorCode } from './home-fixture.js';
import { HANG_GUARD_MS } from '../support/hang-guard.js';

let cli: CliHome;
beforeAll(() => {
  cli = createCliHome();
  expect(cli.run(['init']).code).toBe(0);
});
afterAll(() => cli?.cleanup());

describe('usage errors', () => {
  it('a missing PIN is one plain sentence', () => {
    const result = cli.run(['keys', 'generate', '--chain', 'evm', '--label', 'k'], {
      COLDSIGN_PIN: undefined,
    });
    expect(result.code).toBe(5);
    expect(result.stderr).toBe(
      'coldsign: The HSM user PIN was not given: set COLDSIGN_PIN, or run coldsign in a terminal to be asked for it.\n',
    );
  });

  it("a usage error points to the subcommand's help", () => {
    const result = cli.run(['keys', 'generate', '--chain', 'evm']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('See `coldsign keys generate --help`.');
    expect(cli.run(['keys', 'gen']).stderr).toContain('See `coldsign keys --help`.');
  });

  it('a mistyped option is reported as unknown, not as the required option it was meant to be', () => {
    for (const args of [
      ['sign', 'request.json', '--otu', 'x'],
      ['sign', 'request.json', '--otu=x'],
    ]) {
      const result = cli.run([...args, '--json']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("Unknown option '--otu'");
      expect(result.stderr).not.toContain("'--out");
    }
  });

  it('a mistyped COLDSIGN_HOME is named as missing and init is not suggested', () => {
    const typo = join(cli.dir, 'hoem');
    const result = cli.run(['keys', 'list', '--json'], { COLDSIGN_HOME: typo });
    expect(result.code).toBe(2);
    expect(errorCode(result.stdout)).toBe('HOME_NOT_FOUND');
    expect(result.stderr).toContain(`${typo} (COLDSIGN_HOME) does not exist`);
    expect(result.stderr).not.toContain('run `coldsign init`');
  });
});

describe('the PIN prompt', () => {
  it('Ctrl-D cancels it (exit 2) and nothing is generated', () => {
    const driver = `
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp(${JSON.stringify(process.execPath)}, ['node', ${JSON.stringify(BIN)}, 'keys', 'generate', '--chain', 'evm', '--label', 'never'])
out, sent, deadline = b'', False, time.time() + 540
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.5)
    if ready:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        if b'PIN: ' in out and not sent:
            os.write(fd, b'\\x04')
            sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode() + '\\nEXIT ' + str(os.waitstatus_to_exitcode(status)))
`;
    const env: NodeJS.ProcessEnv = { ...process.env, ...cli.env };
    delete env.COLDSIGN_PIN;
    const result = spawnSync('python3', ['-c', driver], { env, encoding: 'utf8', timeout: HANG_GUARD_MS });
    expect(result.stdout).toContain('HSM user PIN: ');
    expect(result.stdout).toContain('coldsign: Cancelled.');
    expect(result.stdout).toMatch(/EXIT 2$/);
    const keys = cli.run(['keys', 'list', '--json']).json<{ keys: unknown[] }>();
    expect(keys.keys).toEqual([]);
  });
});
