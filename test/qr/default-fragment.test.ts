/**
 * The default animated-UR fragment size (DEFAULT_FRAGMENT_BYTES, chosen by `npx tsx bench/qr.bench.ts`, see
 * docs/bench/qr.md): what the code writes by default, the QR version that size makes, and the CLI help that
 * states it (BCR-2020-005 multi-part URs).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createQrSymbol, createUrFountain } from '../../qr/index.js';
import { psbtToUr } from '../../qr/ur.js';
import { DEFAULT_FRAGMENT_BYTES, MAX_FRAGMENT_BYTES } from '../../qr/ur-parts.js';
import { BIN } from '../support/cli.js';
import { randomBytes } from './support/transfer.js';

describe('default UR fragment size', () => {
  it('a 10 KB PSBT goes out as 15 fragments of at most the default size, one QR version 22 symbol each', () => {
    const fountain = createUrFountain('crypto-psbt', randomBytes(10 * 1024, 1));
    expect(fountain.fragmentCount).toBe(Math.ceil((10 * 1024 + 3) / DEFAULT_FRAGMENT_BYTES));
    expect(fountain.fragmentCount).toBe(15);
    const versions = Array.from({ length: 20 }, () => createQrSymbol(fountain.nextPart()).version);
    // the bench measured decoding at version 22 for this size; larger parts must not creep past it
    expect(Math.max(...versions)).toBeLessThanOrEqual(22);
  });

  it('psbtToUr uses the default, and a smaller fragment argument still wins', () => {
    const psbt = randomBytes(3000, 2);
    expect(psbtToUr(psbt)).toHaveLength(Math.ceil((3000 + 3) / DEFAULT_FRAGMENT_BYTES));
    expect(psbtToUr(psbt, 400)).toHaveLength(Math.ceil((3000 + 3) / 400));
    expect(DEFAULT_FRAGMENT_BYTES).toBeLessThanOrEqual(MAX_FRAGMENT_BYTES);
  });

  it('the CLI help states the same default for qr encode and keys export', () => {
    for (const command of [
      ['qr', 'encode'],
      ['keys', 'export'],
    ]) {
      const result = spawnSync(process.execPath, [BIN, ...command, '--help'], { encoding: 'utf8' });
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toContain(`(default ${DEFAULT_FRAGMENT_BYTES})`);
    }
  });
});
