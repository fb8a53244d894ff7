/**
 * The end-to-end flow once against the CloudHSM stand-in (test-only wrapper over a real SoftHSM2 token, preloaded
 * into every real `bin/coldsign` process): init by slot id with a `user:password` PIN, keys on both chains,
 * policy, signatures on both chains, an officer approval, audit verify and export, rollback detection — and,
 * over every process, not one data object created nor one attribute changed.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { Transaction } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildPsbt,
  checkSignedPsbt,
  erc20TransferRequest,
  ethSignRequestUr,
  USDC,
} from '../../scripts/demo/coordinator.js';
import { Hsm } from '../../hsm/index.js';
import { createCliHome, ROOT, type CliHome } from '../support/cli.js';
import { createApplianceHome, officerPassphrase } from '../support/appliance-home.js';
import { createTestToken, TEST_PIN, type TestToken } from '../support/softhsm.js';
import { EXCHANGE, OPS, PAYROLL, treasuryPolicy } from '../support/treasury-policy.js';
import type { StandinCounters } from './standin.js';

let token: TestToken;
let cli: CliHome;
let btcAddress: string;
let ethAddress: string;
let report: string;
const file = (name: string) => join(cli.dir, name);

/** The environment that preloads the stand-in into a `bin/coldsign` process. */
function standinEnv(): Record<string, string> {
  return {
    NODE_OPTIONS: `--import ${pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href} --import ${pathToFileURL(join(ROOT, 'test', 'cloudhsm', 'standin-preload.ts')).href}`,
    COLDSIGN_STANDIN_REPORT: report,
  };
}

function run(args: string[], env: Record<string, string | undefined> = {}) {
  return cli.run(args, { ...standinEnv(), ...env });
}

beforeAll(() => {
  token = createTestToken('coldsign-standin-e2e');
  const probe = Hsm.open({ module: token.module, token: token.token }, TEST_PIN);
  const slot = Number(probe.slot.readBigUInt64LE(0));
  probe.close();
  cli = createCliHome(`coldsign:${TEST_PIN}`);
  report = file('standin-report.jsonl');
  // `init --module` does not create a missing home directory yet (issue tracked with the home's owner).
  mkdirSync(cli.env.COLDSIGN_HOME!, { recursive: true });
  const appliance = createApplianceHome({
    cli,
    env: standinEnv(),
    initArgs: ['--module', token.module, '--slot', String(slot)],
    keys: [
      { chain: 'btc', label: 'vault-btc' },
      { chain: 'evm', label: 'vault-eth' },
    ],
    policy: () => treasuryPolicy(1),
  });
  btcAddress = appliance.keys['vault-btc']!.address;
  ethAddress = appliance.keys['vault-eth']!.address;
});

afterAll(() => {
  cli?.cleanup();
  token?.cleanup();
});

describe('end to end on the CloudHSM stand-in', () => {
  it('signs a PSBT that an independent library finalizes', () => {
    writeFileSync(
      file('small.psbt'),
      buildPsbt(btcAddress, EXCHANGE, 10_000_000n, 2_000n, [8_000_000n, 5_000_000n]),
    );
    const result = run(['sign', file('small.psbt'), '--out', file('small.signed'), '--json']);
    expect(result.code, result.stderr).toBe(0);
    const signed = Uint8Array.from(Buffer.from(readFileSync(file('small.signed'), 'utf8').trim(), 'base64'));
    expect(checkSignedPsbt(signed)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('answers an eth-sign-request, and signs an ERC-20 transfer with an officer approval', () => {
    // The path and fingerprint the online wallet learned from the pairing export.
    const pairing = JSON.parse(run(['keys', 'export', '--format', 'metamask', '--json']).stdout) as {
      fingerprint: string;
      accounts: Array<{ path: string }>;
    };
    const wallet = { path: pairing.accounts[0]!.path, fingerprint: pairing.fingerprint };
    writeFileSync(file('eth.ur.txt'), ethSignRequestUr(ethAddress, OPS, '0.5', 0, wallet).parts.join('\n'));
    const eth = run(['sign', file('eth.ur.txt'), '--out', file('eth.sig.txt')]);
    expect(eth.code, eth.stderr).toBe(0);
    expect(readFileSync(file('eth.sig.txt'), 'utf8')).toMatch(/^ur:eth-signature\//);
    writeFileSync(file('payroll.json'), erc20TransferRequest(ethAddress, USDC, PAYROLL, '12000', 6, 1));
    const approval = run(
      ['approve', file('payroll.json'), '--key', file('alice.pem'), '--out', file('alice.json')],
      { COLDSIGN_PASSPHRASE: officerPassphrase('alice') },
    );
    expect(approval.code, approval.stderr).toBe(0);
    const signed = run([
      'sign',
      file('payroll.json'),
      '--out',
      file('payroll.hex'),
      '--approval',
      file('alice.json'),
    ]);
    expect(signed.code, signed.stderr).toBe(0);
    expect(Transaction.from(readFileSync(file('payroll.hex'), 'utf8').trim()).from).toBe(ethAddress);
  });

  it('verifies and exports the audit log, and refuses an older copy of the database (exit 6)', () => {
    const verify = run(['audit', 'verify', '--json']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(run(['audit', 'export', '--out', file('audit.jsonl')]).code).toBe(0);
    expect(readFileSync(file('audit.jsonl'), 'utf8')).toMatch(/appliance\.initialized/);
    const home = cli.env.COLDSIGN_HOME!;
    const db = new Database(join(home, 'coldsign.db'));
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    copyFileSync(join(home, 'coldsign.db'), file('db-backup'));
    writeFileSync(file('again.psbt'), buildPsbt(btcAddress, EXCHANGE, 1_000_000n, 2_000n, [6_000_000n]));
    expect(run(['sign', file('again.psbt'), '--out', file('again.out')]).code).toBe(0);
    const now = new Database(join(home, 'coldsign.db'));
    now.pragma('wal_checkpoint(TRUNCATE)');
    now.close();
    copyFileSync(file('db-backup'), join(home, 'coldsign.db'));
    const rolled = run(['sign', file('again.psbt'), '--out', file('rolled.out'), '--json']);
    expect(rolled.code).toBe(6);
    expect(JSON.parse(rolled.stdout).error.code).toBe('AUDIT_ROLLBACK');
    expect(existsSync(file('rolled.out'))).toBe(false);
  });

  it('no process created a data object or changed an attribute, and the stand-in was really in the path', () => {
    const lines = readFileSync(report, 'utf8').trim().split('\n');
    const counters = lines.map((line) => JSON.parse(line) as StandinCounters);
    expect(counters.length).toBeGreaterThanOrEqual(8);
    expect(counters.reduce((n, c) => n + c.logins, 0)).toBeGreaterThanOrEqual(8);
    expect(counters.reduce((n, c) => n + c.dataObjectAttempts, 0)).toBe(0);
    expect(counters.reduce((n, c) => n + c.setAttributeAttempts, 0)).toBe(0);
  });
});
