/**
 * `qr encode` and `sign --qr` never write an animated UR of more frames than coldsign accepts on input (256): they
 * refuse with QR_OUTPUT_TOO_LARGE and a sentence that says to carry a file, and `sign` refuses before the HSM signs.
 * Real CLI, SoftHSM2 and SQLite; 10-byte fragments make the cap 2,560 bytes, so small real requests reach it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { buildPsbt } from '../../scripts/demo/coordinator.js';
import { createApplianceHome, type ApplianceHome } from '../support/appliance-home.js';
import { EXCHANGE, treasuryPolicy } from '../support/treasury-policy.js';
import { randomBytes } from '../qr/support/transfer.js';

let appliance: ApplianceHome;
const file = (name: string) => appliance.file(name);
const errorOf = (stdout: string) =>
  (JSON.parse(stdout) as { error: { code: string; message: string } }).error;

function signatureEntries(): number {
  const db = new Database(join(appliance.cli.env.COLDSIGN_HOME!, 'coldsign.db'), { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM audit_log WHERE type = 'signature'").get() as { n: number })
      .n;
  } finally {
    db.close();
  }
}

beforeAll(() => {
  appliance = createApplianceHome({
    keys: [{ chain: 'btc', label: 'vault-btc' }],
    policy: () => treasuryPolicy(1),
  });
  // Inputs with their full previous transactions: 25 make about 4.1 KB unsigned, more than 256 frames of 10 bytes;
  // 15 make 2.5 KB, which fits unsigned, but not once each input carries its partial signature (BIP-174)
  for (const inputs of [25, 15]) {
    const utxos = Array.from({ length: inputs }, () => 1_000_000n);
    const psbt = buildPsbt(appliance.keys['vault-btc']!.address, EXCHANGE, 10_000_000n, 2_000n, utxos);
    writeFileSync(file(`inputs-${inputs}.psbt`), psbt);
  }
});
afterAll(() => appliance?.cleanup());

describe('animated QR output cap', () => {
  it('qr encode refuses a file that would need more than 256 frames and writes no frame', () => {
    writeFileSync(file('data.bin'), randomBytes(3000, 1));
    const result = appliance.run([
      'qr',
      'encode',
      file('data.bin'),
      '--out',
      file('frames-data'),
      '--ur-type',
      'bytes',
      '--fragment',
      '10',
      '--json',
    ]);
    expect(result.code).toBe(3);
    const error = errorOf(result.stdout);
    expect(error.code).toBe('QR_OUTPUT_TOO_LARGE');
    expect(error.message).toMatch(/more than the 256 a reader accepts\): carry it as a file instead\.$/);
    expect(existsSync(file('frames-data'))).toBe(false);
  });

  it('sign --qr refuses before signing when the unsigned PSBT already needs more than 256 frames', () => {
    const before = signatureEntries();
    const args = ['sign', file('inputs-25.psbt'), '--out', file('big.signed.psbt'), '--json'];
    const refused = appliance.run([...args, '--qr', file('frames-big'), '--fragment', '10']);
    expect(refused.code, refused.stderr).toBe(3);
    const error = errorOf(refused.stdout);
    expect(error.code).toBe('QR_OUTPUT_TOO_LARGE');
    expect(error.message).toMatch(/file output only .*nothing was signed\.$/);
    expect(existsSync(file('big.signed.psbt'))).toBe(false);
    expect(existsSync(file('frames-big')) ? readdirSync(file('frames-big')) : []).toEqual([]);
    expect(signatureEntries()).toBe(before);

    // the same request at a fragment size where it fits is signed and written as frames
    const signed = appliance.run([...args, '--qr', file('frames-big'), '--fragment', '700']);
    expect(signed.code, signed.stderr).toBe(0);
    expect(readdirSync(file('frames-big')).length).toBeGreaterThan(1);
    expect(signatureEntries()).toBe(before + 1);
  });

  it('sign --qr whose signed PSBT outgrows 256 frames writes the file, no frame, and says to carry the file', () => {
    const before = signatureEntries();
    const out = file('grown.signed.psbt');
    const args = ['sign', file('inputs-15.psbt'), '--out', out, '--qr', file('frames-grown')];
    const result = appliance.run([...args, '--fragment', '10', '--json']);
    expect(result.code, result.stderr).toBe(3);
    const error = errorOf(result.stdout);
    expect(error.code).toBe('QR_OUTPUT_TOO_LARGE');
    expect(error.message).toMatch(/too large for QR frames, so none were written: carry the file instead/);
    expect(error.message).toContain(out);
    expect(existsSync(out)).toBe(true);
    expect(existsSync(file('frames-grown')) ? readdirSync(file('frames-grown')) : []).toEqual([]);
    expect(signatureEntries()).toBe(before + 1);
  });
});
