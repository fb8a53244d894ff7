/**
 * Velocity and a signing that never finished. Someone who can read the database file and kill coldsign stops a
 * `sign` after the HSM signed and the signature was recorded, before the closing checkpoint. The signature is in
 * the file — a valid transaction from our key (shown with ethers: it recovers to the treasury and pays 4 ETH) —
 * while the next start-up discards the unpinned tail (docs/audit.md). Velocity counted from the discarded
 * "signature" entry, so the 4 ETH were forgotten and a second 4 ETH signed under a 6 ETH window. Now velocity
 * (and the outpoint ledger) count from the pinned "signing.started" announcement, before the HSM is asked: the
 * second payment is refused (docs/policy.md, Velocity).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { Signature, Transaction, parseEther } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplianceHome, type ApplianceHome } from '../../support/appliance-home.js';
import { killWhenHeld, withHomeDb } from './support/kill-at-pin.js';

const PAYEE = '0x1111111111111111111111111111111111111111';

let a: ApplianceHome;

beforeAll(() => {
  a = createApplianceHome({
    keys: [{ chain: 'evm', label: 'treasury' }],
    policy: () => ({
      version: 1,
      rules: [
        {
          id: 'payments',
          chain: 'evm',
          chainIds: [1],
          velocity: { window: '24h', maxAmount: '6' },
          destinations: [{ address: PAYEE, label: 'Supplier' }],
          maxAmount: '5',
          maxFee: '0.1',
        },
      ],
    }),
  });
});
afterAll(() => a?.cleanup());

const payment = (nonce: number) => ({
  type: 'transaction',
  from: a.keys.treasury!.address,
  chainId: 1,
  txType: 2,
  nonce,
  to: PAYEE,
  value: parseEther('4').toString(),
  gasLimit: '21000',
  maxFeePerGas: '30000000000',
  maxPriorityFeePerGas: '1000000000',
});

function requestFile(nonce: number): string {
  const path = a.file(`pay-${nonce}.json`);
  writeFileSync(path, JSON.stringify(payment(nonce)));
  return path;
}

describe('a sign killed after its signature was recorded, before its closing checkpoint', () => {
  it('leaves a valid signature in the file, and velocity still counts it after the tail is discarded', async () => {
    const first = requestFile(0);
    // Held before the third pin write (begin, "signing.started" kept open, closing): the signature is recorded.
    const killed = await killWhenHeld(a, ['sign', first, '--out', a.file('pay-0.out')], '3:before');
    expect(killed).toEqual({ signal: 'SIGKILL', held: true });
    expect(existsSync(a.file('pay-0.out'))).toBe(false);

    // What the file's reader takes: the signature, r‖s‖v, of the announced transaction.
    const leaked = withHomeDb(a, (db) =>
      db.prepare('SELECT signature FROM signatures ORDER BY rowid DESC LIMIT 1').get(),
    ) as { signature: string };
    const { from: _from, type: _type, txType: _txType, ...fields } = payment(0);
    const tx = Transaction.from({ ...fields, type: 2, signature: Signature.from(leaked.signature) });
    expect(tx.from!.toLowerCase()).toBe(a.keys.treasury!.address.toLowerCase());
    expect(tx.to).toBe(PAYEE);
    expect(tx.value).toBe(parseEther('4'));

    // The next start-up discards the unpinned signature entry; the signing stays announced, unfinished.
    const verify = a.run(['audit', 'verify', '--json']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.json<{ unfinishedSignings?: unknown[] }>().unfinishedSignings).toHaveLength(1);
    const counted = withHomeDb(a, (db) =>
      db.prepare("SELECT raw FROM velocity WHERE asset = 'native'").all(),
    ) as {
      raw: string;
    }[];
    expect(counted.map((r) => BigInt(r.raw))).toEqual([parseEther('4') + 21000n * 30000000000n]);

    // A second 4 ETH would make 8 ETH (plus fees) leave under a 6 ETH window: refused.
    const second = a.run(['sign', requestFile(1), '--out', a.file('pay-1.out'), '--json']);
    expect(second.code, second.stdout).toBe(4);
    const error = (JSON.parse(second.stdout) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('POLICY_DENIED');
    expect(error.message).toMatch(/velocity|window/i);
    expect(existsSync(a.file('pay-1.out'))).toBe(false);
  });
});
