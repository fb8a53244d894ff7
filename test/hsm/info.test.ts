/** `coldsign hsm info` on an embedded SoftHSM2 home: real CLI processes, real token. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCliHome, type CliHome } from '../support/cli.js';

interface InfoReport {
  library: { description: string; manufacturer: string };
  token: { label: string; sessions: { open: number } };
  slots: Array<{ id: number; token?: { label: string } }>;
  profile: { name: string; source: string; cannot: string[] };
  mechanisms: Array<{ name: string; offered: boolean; ecFlags?: string[] }>;
  anchor: {
    status: string;
    anchors: Array<{ seq: number; status: string; pinnedSeq?: number; fingerprint: string }>;
  };
}

let cli: CliHome;

beforeAll(() => {
  cli = createCliHome();
  const init = cli.run(['init']);
  expect(init.code, init.stderr).toBe(0);
});
afterAll(() => cli?.cleanup());

describe('hsm info', () => {
  it('reports the library, token, slots, the mechanisms coldsign uses, the profile and a verified anchor', () => {
    const result = cli.run(['hsm', 'info', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = result.json<InfoReport>();
    expect(`${report.library.manufacturer} ${report.library.description}`).toMatch(/SoftHSM/i);
    expect(report.token.label).toBe('coldsign');
    expect(report.slots.some((s) => s.token?.label === 'coldsign')).toBe(true);
    expect(report.profile).toMatchObject({ name: 'softhsm2', source: 'detected' });
    const names = report.mechanisms.filter((m) => m.offered).map((m) => m.name);
    expect(names).toEqual([
      'CKM_EC_KEY_PAIR_GEN',
      'CKM_ECDSA',
      'CKM_GENERIC_SECRET_KEY_GEN',
      'CKM_SHA256_HMAC',
    ]);
    expect(report.mechanisms.find((m) => m.name === 'CKM_ECDSA')?.ecFlags).toContain('named-curve');
    expect(report.anchor.status).toBe('read');
    expect(report.anchor.anchors).toHaveLength(1);
    expect(report.anchor.anchors[0]).toMatchObject({ status: 'valid' });
    expect(report.anchor.anchors[0]!.pinnedSeq).toBeGreaterThan(0);
  });

  it('without a PIN still describes the HSM and says why the anchor is not shown', () => {
    const result = cli.run(['hsm', 'info'], { COLDSIGN_PIN: undefined });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Profile: {2}softhsm2 \(detected\)/);
    expect(result.stdout).toMatch(/Anchor: {3}not shown: set COLDSIGN_PIN/);
  });
});
