/**
 * Batches and approvals (real `bin/coldsign`, embedded SoftHSM2): `sign A B` signs all or none; a
 * batch whose requests each need approvals works with approvals per request id; an approval is bound
 * to the signing key(s) and the policy version (alice's and bob's approvals of a request for eth-1
 * do not sign the same transaction from eth-2); `approve` of a request the policy refuses exits 4.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as bitcoin from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPsbt, erc20TransferRequest, USDC } from '../../../scripts/demo/coordinator.js';
import { type CliHome } from '../../support/cli.js';
import { createApplianceHome, officerPassphrase, type ApplianceHome } from '../../support/appliance-home.js';

const EXCHANGE = bitcoin.payments.p2wpkh({
  pubkey: Buffer.from('0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798', 'hex'),
}).address!;
const PAYROLL = '0x2222222222222222222222222222222222222222';
type Officer = 'alice' | 'bob';

let appliance: ApplianceHome;
let cli: CliHome;
const address: Record<string, string> = {};
const file = (name: string) => join(cli.dir, name);
const errorCode = (stdout: string) => (JSON.parse(stdout) as { error?: { code: string } }).error?.code;

function policy(version: number) {
  return {
    version,
    rules: [
      {
        id: 'btc-small',
        chain: 'btc',
        network: 'mainnet',
        keys: ['vault-btc'],
        destinations: [{ address: EXCHANGE, label: 'Exchange' }],
        maxAmount: '0.5',
      },
      {
        id: 'btc-large',
        chain: 'btc',
        network: 'mainnet',
        keys: ['vault-btc'],
        destinations: [{ address: EXCHANGE, label: 'Exchange' }],
        maxAmount: '2',
        approvals: 1,
      },
      {
        id: 'usdc-payroll',
        chain: 'evm',
        chainIds: [1],
        kinds: ['token_transfer'],
        keys: ['eth-1', 'eth-2'],
        tokens: [{ contract: USDC, symbol: 'USDC', decimals: 6, maxAmount: '25000' }],
        destinations: [{ address: PAYROLL, label: 'Payroll' }],
        maxFee: '0.01',
        approvals: 2,
      },
    ],
  };
}

function applyPolicy(version: number): void {
  const applied = appliance.applyPolicy(policy(version), { name: `policy-${version}.json` });
  expect(applied.code, applied.stderr).toBe(0);
}

function approve(request: string, officer: Officer, out: string) {
  return cli.run(['approve', file(request), '--key', file(`${officer}.pem`), '--out', file(out), '--json'], {
    COLDSIGN_PASSPHRASE: officerPassphrase(officer),
  });
}

function count(type: string): number {
  const db = new Database(join(cli.env.COLDSIGN_HOME!, 'coldsign.db'), { readonly: true });
  const row = db.prepare('SELECT COUNT(*) AS n FROM audit_log WHERE type = ?').get(type) as { n: number };
  db.close();
  return row.n;
}

beforeAll(() => {
  appliance = createApplianceHome({
    keys: [
      { chain: 'btc', label: 'vault-btc' },
      { chain: 'evm', label: 'eth-1' },
      { chain: 'evm', label: 'eth-2' },
    ],
  });
  cli = appliance.cli;
  for (const [label, key] of Object.entries(appliance.keys)) address[label] = key.address;
  applyPolicy(1);
});
afterAll(() => cli?.cleanup());

describe('sign A B: all or none', () => {
  it('a refused request in the batch leaves nothing signed, logged as signed or counted', () => {
    writeFileSync(
      file('a.psbt'),
      buildPsbt(address['vault-btc']!, EXCHANGE, 10_000_000n, 2_000n, [20_000_000n]),
    );
    writeFileSync(
      file('b.psbt'),
      buildPsbt(address['vault-btc']!, EXCHANGE, 500_000_000n, 2_000n, [600_000_000n]),
    );
    mkdirSync(file('out-ab'));
    const before = { started: count('signing.started'), signed: count('signature') };
    const result = cli.run(['sign', file('a.psbt'), file('b.psbt'), '--out', file('out-ab'), '--json']);
    expect(result.code, result.stdout).toBe(4);
    expect(errorCode(result.stdout)).toBe('POLICY_DENIED');
    expect(readdirSync(file('out-ab'))).toEqual([]);
    // the HSM was never asked: no signing was announced, no signature recorded
    expect(count('signing.started')).toBe(before.started);
    expect(count('signature')).toBe(before.signed);
    expect(count('request.refused')).toBeGreaterThanOrEqual(2);
    // A alone is signed
    expect(cli.run(['sign', file('a.psbt'), '--out', file('a.out')]).code).toBe(0);
  });

  it('a batch whose requests each need an approval signs with approvals per request id', () => {
    writeFileSync(
      file('c.psbt'),
      buildPsbt(address['vault-btc']!, EXCHANGE, 100_000_000n, 2_000n, [150_000_000n]),
    );
    writeFileSync(
      file('d.psbt'),
      buildPsbt(address['vault-btc']!, EXCHANGE, 120_000_000n, 2_000n, [150_000_000n, 1_000n]),
    );
    expect(approve('c.psbt', 'alice', 'c-alice.json').code).toBe(0);
    expect(approve('d.psbt', 'bob', 'd-bob.json').code).toBe(0);
    mkdirSync(file('out-cd'));
    // only C's approval: D misses its own, nothing is signed
    const half = cli.run([
      'sign',
      file('c.psbt'),
      file('d.psbt'),
      '--out',
      file('out-cd'),
      '--approval',
      file('c-alice.json'),
      '--json',
    ]);
    expect(half.code, half.stdout).toBe(4);
    expect(errorCode(half.stdout)).toBe('APPROVALS_MISSING');
    expect(readdirSync(file('out-cd'))).toEqual([]);
    const both = cli.run([
      'sign',
      file('c.psbt'),
      file('d.psbt'),
      '--out',
      file('out-cd'),
      '--approval',
      file('c-alice.json'),
      '--approval',
      file('d-bob.json'),
      '--json',
    ]);
    expect(both.code, both.stdout).toBe(0);
    const reports =
      both.json<Array<{ policy: { approvals: string[] }; audit: { head: { seq: number; hash: string } } }>>();
    expect(reports.map((r) => r.policy.approvals)).toEqual([['alice'], ['bob']]);
    expect(reports[0]!.audit.head.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(readdirSync(file('out-cd'))).toHaveLength(2);
  });
});

describe('approvals are bound to the signing key, the policy version and an expiry', () => {
  it('alice’s and bob’s approvals of a request for eth-1 do not sign the same transaction from eth-2', () => {
    writeFileSync(file('pay-1.json'), erc20TransferRequest(address['eth-1']!, USDC, PAYROLL, '1000', 6, 7));
    writeFileSync(file('pay-2.json'), erc20TransferRequest(address['eth-2']!, USDC, PAYROLL, '1000', 6, 7));
    expect(approve('pay-1.json', 'alice', 'pay-alice.json').code).toBe(0);
    expect(approve('pay-1.json', 'bob', 'pay-bob.json').code).toBe(0);
    const reused = cli.run([
      'sign',
      file('pay-2.json'),
      '--out',
      file('pay-2.out'),
      '--approval',
      file('pay-alice.json'),
      '--approval',
      file('pay-bob.json'),
      '--json',
    ]);
    expect(reused.code, reused.stdout).not.toBe(0);
    // The approvals' signed message names eth-1's public key: they do not verify for eth-2.
    expect(['APPROVAL_INVALID', 'APPROVAL_WRONG_KEY', 'APPROVALS_MISSING']).toContain(
      errorCode(reused.stdout),
    );
    expect(existsSync(file('pay-2.out'))).toBe(false);
    // the same approvals sign the request they were made for
    const own = cli.run([
      'sign',
      file('pay-1.json'),
      '--out',
      file('pay-1.out'),
      '--approval',
      file('pay-alice.json'),
      '--approval',
      file('pay-bob.json'),
    ]);
    expect(own.code, own.stderr).toBe(0);
  });

  it('an approval made under an older policy version is refused with APPROVAL_STALE', () => {
    writeFileSync(
      file('e.psbt'),
      buildPsbt(address['vault-btc']!, EXCHANGE, 110_000_000n, 2_000n, [160_000_000n]),
    );
    expect(approve('e.psbt', 'alice', 'e-alice.json').code).toBe(0);
    applyPolicy(2);
    const stale = cli.run([
      'sign',
      file('e.psbt'),
      '--out',
      file('e.out'),
      '--approval',
      file('e-alice.json'),
      '--json',
    ]);
    expect(stale.code, stale.stdout).toBe(4);
    expect(errorCode(stale.stdout)).toBe('APPROVAL_STALE');
    expect(existsSync(file('e.out'))).toBe(false);
  });

  it('approve of a request the policy refuses warns and exits 4, writing no approval', () => {
    writeFileSync(
      file('big.psbt'),
      buildPsbt(address['vault-btc']!, EXCHANGE, 900_000_000n, 2_000n, [1_000_000_000n]),
    );
    const result = approve('big.psbt', 'alice', 'big-alice.json');
    expect(result.code, result.stdout).toBe(4);
    expect(errorCode(result.stdout)).toBe('POLICY_DENIED');
    expect(existsSync(file('big-alice.json'))).toBe(false);
  });
});
