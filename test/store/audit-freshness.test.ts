/**
 * "Not fully verified for too long" (issue 16 item 1): the time and outcome of the last `audit verify` are
 * kept; unlock warns when the last success (or, never verified, the log's first entry) is older than the
 * policy's audit.fullVerifyEvery; `hsm info` and `audit verify` show them. Real CLI, SoftHSM2 token and
 * SQLite; the clock is the session's injectable `now`, and for the CLI the stored time is moved back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as bitcoin from 'bitcoinjs-lib';
import { ApplianceSession } from '../../appliance/session.js';
import { parsePolicy } from '../../policy/schema.js';
import { applianceKeyOf, createCliHome, type CliHome } from '../support/cli.js';
import { buildPsbt } from '../../scripts/demo/coordinator.js';
import type { RequestReport } from '../../appliance/api.js';

const PIN = '135790';
const PASS = 'freshness-passphrase';
const DAY = 86_400_000;
let cli: CliHome;
let start: number;

function ok(args: string[], env: Record<string, string> = {}): string {
  const result = cli.run(args, env);
  expect(result.code, `${args.join(' ')}: ${result.stderr}${result.stdout}`).toBe(0);
  return result.stdout;
}

async function unlockAt(time: number): Promise<string | undefined> {
  const session = new ApplianceSession(cli.env.COLDSIGN_HOME);
  session.now = () => new Date(time);
  try {
    return (await session.unlock(PIN)).auditWarning;
  } finally {
    await session.close();
  }
}

beforeAll(() => {
  cli = createCliHome(PIN);
  const keyFile = join(cli.dir, 'alice.pem');
  const pub = ok(['officer', 'keygen', 'alice', '--out', keyFile], { COLDSIGN_PASSPHRASE: PASS });
  ok(['init', '--officer', `alice=${pub.trim().split('\n').at(-1)}`, '--quorum', '1']);
  start = Date.now();
  const policy = join(cli.dir, 'policy.json');
  writeFileSync(
    policy,
    JSON.stringify({
      version: 1,
      appliance: applianceKeyOf(cli),
      audit: { fullVerifyEvery: '2d' },
      rules: [
        {
          id: 'btc-any',
          chain: 'btc',
          network: 'mainnet',
          anyDestination: true,
          maxAmount: '1000',
          approvals: 0,
        },
      ],
    }),
  );
  ok(['policy', 'sign', policy, '--key', keyFile], { COLDSIGN_PASSPHRASE: PASS });
  ok(['policy', 'apply', policy]);
});

afterAll(() => cli?.cleanup());

/** `coldsign sign --json` of a base64 PSBT written to `name`. */
function signJson(name: string, psbt: string) {
  const path = join(cli.dir, name);
  writeFileSync(path, psbt);
  return cli.run(['sign', path, '--out', `${path}.signed`, '--json']);
}

describe('full verification period (policy audit.fullVerifyEvery)', () => {
  it('a new appliance is not overdue; past the period with no full verification, unlock warns', async () => {
    expect(await unlockAt(Date.now())).toBeUndefined();
    expect(await unlockAt(start + 3 * DAY)).toMatch(/never been verified.*every 2d.*coldsign audit verify/);
  });

  it('a successful audit verify resets the period; it warns again once the period has passed', async () => {
    const session = new ApplianceSession(cli.env.COLDSIGN_HOME);
    const verifiedAt = start + 3 * DAY;
    session.now = () => new Date(verifiedAt);
    try {
      await session.unlock(PIN);
      expect((await session.auditVerify()).ok).toBe(true);
    } finally {
      await session.close();
    }
    expect(await unlockAt(verifiedAt + DAY)).toBeUndefined();
    expect(await unlockAt(verifiedAt + 3 * DAY)).toMatch(
      new RegExp(`last verified on ${new Date(verifiedAt).toISOString()}.*every 2d`),
    );
    const info = JSON.parse(ok(['hsm', 'info', '--json'])) as {
      audit: { every: string; lastOk: string; last: { ok: boolean; entries: number } };
    };
    expect(info.audit).toMatchObject({ every: '2d', lastOk: new Date(verifiedAt).toISOString() });
    expect(info.audit.last.ok).toBe(true);
    expect(info.audit.last.entries).toBeGreaterThan(0);
  });

  it('the CLI prints the warning on stderr when overdue, and audit verify (the remedy) records a new time', () => {
    const db = new Database(join(cli.env.COLDSIGN_HOME!, 'coldsign.db'));
    db.prepare(
      "UPDATE settings SET value = '2000-01-01T00:00:00.000Z' WHERE name = 'audit.lastFullVerify'",
    ).run();
    db.close();
    const generate = cli.run(['keys', 'generate', '--chain', 'btc', '--label', 'vault-btc', '--json']);
    expect(generate.code, generate.stderr).toBe(0);
    expect(generate.stderr).toMatch(
      /warning: The whole audit log was last verified on 2000-01-01T00:00:00.000Z/,
    );
    // `sign --json` carries it in audit.warning, signed or refused (a script that reads only stdout sees it too).
    const address = (JSON.parse(generate.stdout) as { address: string }).address;
    const overdue = /^The whole audit log was last verified on 2000-01-01T00:00:00.000Z/;
    const signed = signJson('small.psbt', buildPsbt(address, address, 100_000n, 1_000n, [500_000n]));
    expect(signed.code, signed.stderr).toBe(0);
    expect((JSON.parse(signed.stdout) as RequestReport).audit.warning).toMatch(overdue);
    const stranger = bitcoin.payments.p2wpkh({ hash: Buffer.alloc(20, 0x11) }).address!;
    // 2,000 BTC to someone else: above the rule's 1,000.
    const huge = buildPsbt(address, stranger, 200_000_000_000n, 1_000n, [300_000_000_000n]);
    const refused = signJson('huge.psbt', huge);
    expect(refused.code, refused.stderr).toBe(4);
    expect((JSON.parse(refused.stdout) as { report: RequestReport }).report.audit.warning).toMatch(overdue);
    const verify = cli.run(['audit', 'verify', '--json']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stderr).not.toMatch(/warning/);
    const report = JSON.parse(verify.stdout) as { fullVerify: { overdue: boolean; lastOk: string } };
    expect(report.fullVerify.overdue).toBe(false);
    expect(Date.parse(report.fullVerify.lastOk)).toBeGreaterThan(Date.parse('2000-01-02'));
    const text = cli.run(['audit', 'verify']);
    expect(text.stdout).toMatch(
      /recorded as the last full verification .* unlock warns after 2d without one/,
    );
  });

  it('the policy period must be a duration', () => {
    const base = { version: 1, rules: [] };
    expect(() => parsePolicy(JSON.stringify({ ...base, audit: { fullVerifyEvery: '30 days' } }))).toThrow(
      /duration/,
    );
    expect(parsePolicy(JSON.stringify({ ...base, audit: { fullVerifyEvery: '7d' } })).audit).toEqual({
      fullVerifyEvery: '7d',
    });
  });
});
