/** The README's main job (the demo story) runs end to end and tells what happened. */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/cli.js';

describe('demo', () => {
  it('acts out the day in the secure room and every independent check passes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coldsign-demo-'));
    const home = join(dir, 'home');
    try {
      const result = spawnSync(
        process.execPath,
        [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'scripts', 'demo', 'main.ts')],
        {
          cwd: dir,
          env: { ...process.env, COLDSIGN_HOME: home, COLDSIGN_PIN: '' },
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      expect(result.status, result.stderr + result.stdout.slice(-3000)).toBe(0);
      const out = result.stdout;
      expect(out).toMatch(/Policy: ALLOWED by rule btc-cold-to-exchange/);
      expect(out).toMatch(/coldsign: The policy refuses this request: destination 0x3333/);
      expect(out).toMatch(/Rule usdc-payroll needs 1 officer approval/);
      expect(out).toMatch(/Signed with the approvals of alice: signed transaction/);
      expect(out).toMatch(/2 BTC PSBT: finalized by @scure\/btc-signer, txid [0-9a-f]{64}/);
      expect(out).toMatch(
        /eth-signature QR: scanned back; ethers rebuilds the transaction and recovers 0x[0-9a-fA-F]{40} \(vault-eth\)/,
      );
      expect(out).toMatch(/Audit log verifies: \d+ entries/);
      expect(out).toMatch(/Exported audit log verifies offline/);
      expect(out).toMatch(/Demo finished/);
      expect(existsSync(join(home, 'softhsm2.conf'))).toBe(true);
      expect(existsSync(join(home, 'coldsign.db'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
