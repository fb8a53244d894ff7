/**
 * `coldsign … | head`: a reader that stops early closes the pipe. The CLI must not die on EPIPE with a stack
 * trace; it finishes and exits with its own exit code, saying nothing about the pipe. The pipe is a real FIFO
 * whose only reader is closed before coldsign starts, so every write to standard output fails with EPIPE.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'coldsign-epipe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs coldsign with standard output on a FIFO that has no reader left (so every write is EPIPE). */
function runIntoClosedPipe(args: string[]) {
  const fifo = join(dir, `pipe-${Math.random().toString(16).slice(2)}`);
  const script = [
    'mkfifo "$FIFO"',
    'exec 3<>"$FIFO"', // a reader, so that opening the writer does not block
    'exec 4>"$FIFO"',
    'exec 3<&-', // the reader goes away, as `head` does when it has read enough
    'exec "$NODE" "$BIN" "$@" >&4 4>&-',
  ].join('\n');
  return spawnSync('sh', ['-c', script, 'sh', ...args], {
    env: { ...process.env, FIFO: fifo, NODE: process.execPath, BIN, COLDSIGN_HOME: join(dir, 'no-home') },
    encoding: 'utf8',
  });
}

/** The same command with standard output read to the end. */
function runNormally(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, COLDSIGN_HOME: join(dir, 'no-home') },
    encoding: 'utf8',
  });
}

describe('standard output closed early (EPIPE)', () => {
  it('the pipe really is closed: a plain writer into it fails with EPIPE', () => {
    const fifo = join(dir, 'control');
    const raw = spawnSync(
      'sh',
      [
        '-c',
        'mkfifo "$FIFO"; exec 3<>"$FIFO"; exec 4>"$FIFO"; exec 3<&-; exec "$NODE" -e "process.stdout.write(\'x\')" >&4 4>&-',
      ],
      { env: { ...process.env, FIFO: fifo, NODE: process.execPath }, encoding: 'utf8' },
    );
    expect(raw.status).not.toBe(0);
    expect(raw.stderr).toMatch(/EPIPE/);
  });

  it('--help exits 0 without a word on standard error', () => {
    const result = runIntoClosedPipe(['--help']);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
  });

  it('a command that succeeds still does its work and exits 0 quietly', () => {
    const data = join(dir, 'data.bin');
    writeFileSync(data, 'coldsign epipe');
    const frames = join(dir, 'frames');
    const encoded = runIntoClosedPipe(['qr', 'encode', data, '--out', frames, '--ur-type', 'bytes']);
    expect(encoded.status).toBe(0);
    expect(encoded.stderr).toBe('');
    // The work was done even though nothing could be printed.
    expect(readdirSync(frames)).toEqual(['frame-0001.png']);
    const decoded = runIntoClosedPipe(['qr', 'decode', join(frames, 'frame-0001.png')]);
    expect(decoded.status).toBe(0);
    expect(decoded.stderr).toBe('');
    expect(runNormally(['qr', 'decode', join(frames, 'frame-0001.png')]).stdout).toMatch(
      /Decoded a bytes UR/,
    );
  });

  it('a refusal keeps its exit code and its one sentence on standard error (--json report dropped)', () => {
    const missing = join(dir, 'missing.png');
    const piped = runIntoClosedPipe(['qr', 'decode', missing, '--json']);
    const normal = runNormally(['qr', 'decode', missing, '--json']);
    expect(normal.status).not.toBe(0);
    expect(piped.status).toBe(normal.status);
    expect(piped.stderr).toBe(normal.stderr);
    expect(piped.stderr).toMatch(/^coldsign: .*missing\.png does not exist\.\n$/);
  });
});
