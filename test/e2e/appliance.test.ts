/**
 * The whole CLI end to end: real `bin/coldsign` processes, an embedded SoftHSM2 token and SQLite database
 * in a temporary home, officers, a signed policy, requests built as coordinators build them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Transaction } from 'ethers';
import {
  buildPsbt,
  checkSignedPsbt,
  erc20TransferRequest,
  ethSignRequestUr,
  USDC,
} from '../../scripts/demo/coordinator.js';
import { type CliHome } from '../support/cli.js';
import { createApplianceHome, officerPassphrase, type ApplianceHome } from '../support/appliance-home.js';
import { EXCHANGE, OPS, PAYROLL, treasuryPolicy } from '../support/treasury-policy.js';

interface Report {
  requestId: string;
  status: string;
  outputs: string[];
  policy: { approvals: string[] };
  summary: { inputs: unknown[]; outputs: Array<{ change: boolean }>; fee: string; feeRate: number };
  audit: { seq: number };
}

const PASS = { alice: 'alice-passphrase', bob: 'bob-passphrase', carol: 'carol-passphrase' };

let appliance: ApplianceHome;
let cli: CliHome;
let btcAddress: string;
let ethAddress: string;
const file = (name: string) => join(cli.dir, name);
/** The path and fingerprint the online wallet learned from the pairing export. */
function walletPairing(): { path: string; fingerprint: string } {
  const pairing = cli
    .run(['keys', 'export', '--format', 'metamask', '--json'])
    .json<{ fingerprint: string; accounts: Array<{ path: string }> }>();
  return { path: pairing.accounts[0]!.path, fingerprint: pairing.fingerprint };
}
const errorCode = (stdout: string) => (JSON.parse(stdout) as { error: { code: string } }).error.code;

const policyDoc = treasuryPolicy;

function signPolicyFile(path: string, officers: Array<keyof typeof PASS>): void {
  appliance.signPolicy(path, officers);
}

beforeAll(() => {
  // carol makes a key but is not enrolled
  appliance = createApplianceHome({
    officers: ['alice', 'bob', 'carol'],
    keys: [
      { chain: 'btc', label: 'vault-btc' },
      { chain: 'evm', label: 'vault-eth' },
    ],
    policy: () => policyDoc(1),
  });
  cli = appliance.cli;
  btcAddress = appliance.keys['vault-btc']!.address;
  ethAddress = appliance.keys['vault-eth']!.address;
});
afterAll(() => cli?.cleanup());

describe('inspect', () => {
  it('reviews a PSBT with the SPEC report fields and never signs', () => {
    writeFileSync(
      file('small.psbt'),
      buildPsbt(btcAddress, EXCHANGE, 10_000_000n, 2_000n, [8_000_000n, 5_000_000n]),
    );
    const result = cli.run(['inspect', file('small.psbt'), '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = result.json<Report>();
    expect(report.requestId).toMatch(/^[0-9a-f]{64}$/);
    expect(report).toMatchObject({ chain: 'btc', kind: 'psbt', status: 'inspected', outputs: [] });
    expect(report.policy).toMatchObject({
      allowed: true,
      rule: 'btc-small',
      requiredApprovals: 0,
      approvals: [],
    });
    expect(report.summary.inputs).toHaveLength(2);
    expect(report.summary.outputs.map((o) => o.change)).toEqual([false, true]);
    expect(report.summary.fee).toBe('0.00002');
    expect(report.summary.feeRate).toBeGreaterThan(0);
    expect(report.audit.seq).toBeGreaterThan(0);
  });

  it('shows a human review with the allowlist label, change and verdict', () => {
    const result = cli.run(['inspect', file('small.psbt')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('"Exchange" (allowlisted)');
    expect(result.stdout).toContain('[change, back to our key]');
    expect(result.stdout).toMatch(/Policy: ALLOWED by rule btc-small/);
  });
});

describe('sign', () => {
  it('signs an allowed PSBT, writes it in its encoding and as QR frames; an independent library finalizes it', () => {
    // the request is base64 text, so the answer is too (an --out named .psbt would get a binary PSBT, BIP-174)
    const out = file('small.signed.psbt.txt');
    const result = cli.run(['sign', file('small.psbt'), '--out', out, '--qr', file('qr-small'), '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = result.json<Report>();
    expect(report.status).toBe('signed');
    expect(report.outputs[0]).toBe(out);
    const frames = readdirSync(file('qr-small'));
    expect(frames[0]).toBe('frame-0001.png');
    const text = readFileSync(out, 'utf8').trim();
    expect(text).toMatch(/^cHNidP8[A-Za-z0-9+/]+=*$/);
    const signed = Uint8Array.from(Buffer.from(text, 'base64'));
    // partial signatures only (no --finalize): the independent library finalizes them itself
    expect(checkSignedPsbt(signed)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('writes into an existing directory given as --out, creating nothing else', () => {
    mkdirSync(file('out-dir'));
    const result = cli.run(['sign', file('small.psbt'), '--out', file('out-dir'), '--json']);
    expect(result.code, result.stderr).toBe(0);
    const written = readdirSync(file('out-dir'));
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^request-[0-9a-f]{16}\.signed\.psbt\.txt$/);
    expect(result.json<Report>().outputs).toEqual([join(file('out-dir'), written[0]!)]);
  });

  it('answers an eth-sign-request with an eth-signature UR', () => {
    const request = ethSignRequestUr(ethAddress, OPS, '0.5', 0, walletPairing());
    writeFileSync(file('eth.ur.txt'), request.parts.join('\n'));
    const result = cli.run(['sign', file('eth.ur.txt'), '--out', file('eth.sig.txt'), '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(file('eth.sig.txt'), 'utf8')).toMatch(/^ur:eth-signature\//);
  });

  it('refuses a destination on no allowlist: exit 4, POLICY_DENIED, no output', () => {
    writeFileSync(
      file('stranger.ur.txt'),
      ethSignRequestUr(
        ethAddress,
        '0x3333333333333333333333333333333333333333',
        '0.1',
        1,
        walletPairing(),
      ).parts.join('\n'),
    );
    const result = cli.run(['sign', file('stranger.ur.txt'), '--out', file('stranger.out'), '--json']);
    expect(result.code).toBe(4);
    expect(errorCode(result.stdout)).toBe('POLICY_DENIED');
    expect(result.stderr).toMatch(/not in the allowlist/);
    expect(existsSync(file('stranger.out'))).toBe(false);
  });

  it('refuses a request over the limit: exit 4', () => {
    writeFileSync(file('big.psbt'), buildPsbt(btcAddress, EXCHANGE, 80_000_000n, 2_000n, [90_000_000n]));
    const result = cli.run(['sign', file('big.psbt'), '--out', file('big.out')]);
    expect(result.code).toBe(4);
    // the fee counts as value leaving our keys (issue 11): 0.8 BTC sent + 0.00002 BTC fee
    expect(result.stderr).toMatch(/0\.80002 BTC exceeds the 0\.5 BTC limit/);
    expect(existsSync(file('big.out'))).toBe(false);
  });

  it('needs the approval the rule asks for: exit 4 without, 0 with an enrolled officer, 3 with a stranger', () => {
    writeFileSync(file('payroll.json'), erc20TransferRequest(ethAddress, USDC, PAYROLL, '12000', 6, 2));
    const out = file('payroll.hex');
    const missing = cli.run(['sign', file('payroll.json'), '--out', out, '--json']);
    expect(missing.code).toBe(4);
    expect(errorCode(missing.stdout)).toBe('APPROVALS_MISSING');
    expect(existsSync(out)).toBe(false);

    const carol = cli.run(
      ['approve', file('payroll.json'), '--key', file('carol.pem'), '--out', file('carol.json')],
      {
        COLDSIGN_PASSPHRASE: PASS.carol,
      },
    );
    expect(carol.code, carol.stderr).toBe(0);
    const stranger = cli.run([
      'sign',
      file('payroll.json'),
      '--out',
      out,
      '--approval',
      file('carol.json'),
      '--json',
    ]);
    expect(stranger.code).toBe(3);
    expect(errorCode(stranger.stdout)).toBe('APPROVAL_INVALID');

    const wrongPass = cli.run(
      ['approve', file('payroll.json'), '--key', file('alice.pem'), '--out', file('alice.json')],
      {
        COLDSIGN_PASSPHRASE: 'not-her-passphrase',
      },
    );
    expect(wrongPass.code).toBe(3);
    expect(existsSync(file('alice.json'))).toBe(false);

    const alice = cli.run(
      ['approve', file('payroll.json'), '--key', file('alice.pem'), '--out', file('alice.json')],
      {
        COLDSIGN_PASSPHRASE: PASS.alice,
      },
    );
    expect(alice.code, alice.stderr).toBe(0);
    const signed = cli.run([
      'sign',
      file('payroll.json'),
      '--out',
      out,
      '--approval',
      file('alice.json'),
      '--json',
    ]);
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.json<Report>().policy.approvals).toEqual(['alice']);
    expect(Transaction.from(readFileSync(out, 'utf8').trim()).from).toBe(ethAddress);
  });

  it('rejects malformed requests with exit 3 and a specific code, writing nothing', () => {
    const cases: Array<[string, Uint8Array | string, string]> = [
      ['garbage.bin', new Uint8Array([0x00, 0xff, 0x13, 0x37]), 'INPUT_UNRECOGNIZED'],
      ['truncated.psbt', readFileSync(file('small.psbt'), 'utf8').slice(0, 60), 'PSBT_TRUNCATED'],
      ['empty.psbt', '', 'INPUT_EMPTY'],
      ['bad.json', '{"type":"transaction","chainId":1', 'REQUEST_INVALID'],
    ];
    for (const [name, content, code] of cases) {
      writeFileSync(file(name), content);
      const result = cli.run(['sign', file(name), '--out', file(`${name}.out`), '--json']);
      expect(result.code, `${name}: ${result.stderr}`).toBe(3);
      expect(errorCode(result.stdout), name).toBe(code);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(file(`${name}.out`))).toBe(false);
    }
    const missing = cli.run(['inspect', file('no-such-file'), '--json']);
    expect(missing.code).toBe(3);
    expect(errorCode(missing.stdout)).toBe('INPUT_NOT_FOUND');
  });

  it('a wrong PIN is exit 5 and signs nothing', () => {
    const result = cli.run(['sign', file('small.psbt'), '--out', file('pin.out'), '--json'], {
      COLDSIGN_PIN: '999999',
    });
    expect(result.code).toBe(5);
    expect(errorCode(result.stdout)).toBe('HSM_PIN_INCORRECT');
    expect(existsSync(file('pin.out'))).toBe(false);
  });
});

describe('policy', () => {
  it('shows the policy in force', () => {
    const shown = cli.run(['policy', 'show']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('Policy version 1');
    expect(shown.stdout).toContain(`For the appliance with audit public key: ${appliance.auditPublicKey}`);
    expect(cli.run(['policy', 'show', '--json']).json<{ policy: { version: number } }>().policy.version).toBe(
      1,
    );
  });

  it('refuses a document below quorum, a stale version, a tampered one and a schema error', () => {
    writeFileSync(file('p2.json'), JSON.stringify({ ...policyDoc(2), appliance: appliance.auditPublicKey }));
    signPolicyFile(file('p2.json'), ['alice']);
    const quorum = cli.run(['policy', 'apply', file('p2.json'), '--json']);
    expect(quorum.code).toBe(6);
    expect(errorCode(quorum.stdout)).toBe('POLICY_QUORUM_MISSING');

    writeFileSync(
      file('p1again.json'),
      JSON.stringify({ ...policyDoc(1), appliance: appliance.auditPublicKey }),
    );
    signPolicyFile(file('p1again.json'), ['alice', 'bob']);
    const stale = cli.run(['policy', 'apply', file('p1again.json'), '--json']);
    expect(stale.code).toBe(6);
    expect(errorCode(stale.stdout)).toBe('POLICY_VERSION_STALE');

    writeFileSync(file('p3.json'), JSON.stringify({ ...policyDoc(3), appliance: appliance.auditPublicKey }));
    signPolicyFile(file('p3.json'), ['alice', 'bob']);
    const doc = JSON.parse(readFileSync(file('p3.json'), 'utf8'));
    doc.rules[0].maxAmount = '50';
    writeFileSync(file('p3.json'), JSON.stringify(doc));
    const tampered = cli.run(['policy', 'apply', file('p3.json'), '--json']);
    expect(tampered.code).toBe(6);

    // Quorum-signed, but for no appliance: signing warns, and the refusal names this appliance's audit public key.
    writeFileSync(file('p5.json'), JSON.stringify(policyDoc(5)));
    signPolicyFile(file('p5.json'), ['alice']);
    const bobSigns = appliance.run(['policy', 'sign', file('p5.json'), '--key', file('bob.pem')], {
      COLDSIGN_PASSPHRASE: officerPassphrase('bob'),
    });
    expect(bobSigns.code, bobSigns.stderr).toBe(0);
    expect(bobSigns.stderr).toMatch(/warning: this policy names no appliance/);
    const unbound = cli.run(['policy', 'apply', file('p5.json'), '--json']);
    expect(unbound.code).toBe(6);
    expect(errorCode(unbound.stdout)).toBe('POLICY_APPLIANCE_MISMATCH');
    expect(unbound.stderr).toContain(`"appliance": "${appliance.auditPublicKey}"`);

    writeFileSync(
      file('p4.json'),
      JSON.stringify({ version: 4, rules: [{ id: 'x', chain: 'btc', maxAmount: 1 }] }),
    );
    const schema = cli.run(['policy', 'apply', file('p4.json'), '--json']);
    expect(schema.code).toBe(3);
    expect(errorCode(schema.stdout)).toBe('POLICY_INVALID');
  });
});

describe('qr', () => {
  it('encodes a PSBT as animated frames and decodes them back byte for byte, in any order', () => {
    const large = buildPsbt(btcAddress, EXCHANGE, 1_000_000n, 2_000n, [
      2_000_000n,
      3_000_000n,
      4_000_000n,
      5_000_000n,
    ]);
    writeFileSync(file('large.psbt'), large);
    const enc = cli.run([
      'qr',
      'encode',
      file('large.psbt'),
      '--out',
      file('qr-large'),
      '--fragment',
      '200',
      '--json',
    ]);
    expect(enc.code, enc.stderr).toBe(0);
    const frames = readdirSync(file('qr-large'))
      .map((f) => join(file('qr-large'), f))
      .reverse();
    expect(frames.length).toBeGreaterThan(2);
    const dec = cli.run(['qr', 'decode', ...frames, '--out', file('large.decoded.psbt')]);
    expect(dec.code, dec.stderr).toBe(0);
    expect(Buffer.from(readFileSync(file('large.decoded.psbt'))).toString('base64')).toBe(large);
  });

  it('signs straight from the QR frames of a request', () => {
    const frames = readdirSync(file('qr-large')).map((f) => join(file('qr-large'), f));
    const result = cli.run(['sign', ...frames, '--out', file('from-qr.txt'), '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(file('from-qr.txt'), 'utf8')).toMatch(/^ur:crypto-psbt\//);
  });

  it('answers a request sent as the newer psbt UR type with the same type', () => {
    const enc = cli.run([
      'qr',
      'encode',
      file('small.psbt'),
      '--out',
      file('qr-psbt-type'),
      '--ur-type',
      'psbt',
    ]);
    expect(enc.code, enc.stderr).toBe(0);
    const frames = readdirSync(file('qr-psbt-type')).map((f) => join(file('qr-psbt-type'), f));
    const result = cli.run(['sign', ...frames, '--out', file('psbt-type.txt')]);
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(file('psbt-type.txt'), 'utf8')).toMatch(/^ur:psbt\//);
  });

  it('refuses an incomplete animated transfer', () => {
    const frames = readdirSync(file('qr-large')).map((f) => join(file('qr-large'), f));
    const result = cli.run(['inspect', frames[0]!, '--json']);
    expect(result.code).toBe(3);
    expect(errorCode(result.stdout)).toBe('QR_INCOMPLETE');
  });
});

describe('audit', () => {
  it('verifies, exports, and verifies the export offline; a modified export does not verify', () => {
    const verify = cli.run(['audit', 'verify', '--json']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.json<{ ok: boolean }>().ok).toBe(true);
    expect(cli.run(['audit', 'export', '--out', file('audit.jsonl')]).code).toBe(0);
    const offline = cli.run(['audit', 'verify', '--file', file('audit.jsonl')], {
      COLDSIGN_HOME: file('nowhere'),
      COLDSIGN_PIN: undefined,
    });
    expect(offline.code, offline.stderr).toBe(0);
    const lines = readFileSync(file('audit.jsonl'), 'utf8').split('\n');
    lines[3] = lines[3]!.replace(/"time":"[^"]+"/, '"time":"2020-01-01T00:00:00.000Z"');
    writeFileSync(file('audit-edited.jsonl'), lines.join('\n'));
    const edited = cli.run(['audit', 'verify', '--file', file('audit-edited.jsonl'), '--json']);
    expect(edited.code).toBe(6);
  });

  it('a tampered database is exit 6 for verify and sign', () => {
    const copy = file('tampered-home');
    cpSync(cli.env.COLDSIGN_HOME!, copy, { recursive: true });
    const db = new Database(join(copy, 'coldsign.db'));
    db.prepare("UPDATE audit_log SET time = '2020-01-01T00:00:00.000Z' WHERE seq = 3").run();
    db.close();
    const env = { COLDSIGN_HOME: copy };
    const verify = cli.run(['audit', 'verify', '--json'], env);
    expect(verify.code).toBe(6);
    expect(errorCode(verify.stdout)).toBe('AUDIT_TAMPERED');
    // Start-up does not re-hash the history (its cost must not grow with the log): an edit of a state
    // table, or of the entry pinned in the HSM, is what stops signing (test/adversarial/state/).
    const keys = new Database(join(copy, 'coldsign.db'));
    keys.prepare("UPDATE keys SET address = address || 'x'").run();
    keys.close();
    const sign = cli.run(['sign', file('small.psbt'), '--out', file('tampered.out')], env);
    expect(sign.code).toBe(6);
    expect(existsSync(file('tampered.out'))).toBe(false);
  });

  it('an older copy of the database restored (rollback) is refused: exit 6', () => {
    const home = cli.env.COLDSIGN_HOME!;
    const backup = file('db-backup');
    // WAL: checkpoint into the main file first so the copy is complete
    const db = new Database(join(home, 'coldsign.db'));
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    copyFileSync(join(home, 'coldsign.db'), backup);
    writeFileSync(file('again.psbt'), buildPsbt(btcAddress, EXCHANGE, 1_000_000n, 2_000n, [6_000_000n]));
    expect(cli.run(['sign', file('again.psbt'), '--out', file('again.out')]).code).toBe(0);
    const now = new Database(join(home, 'coldsign.db'));
    now.pragma('wal_checkpoint(TRUNCATE)');
    now.close();
    copyFileSync(backup, join(home, 'coldsign.db'));
    const verify = cli.run(['audit', 'verify', '--json']);
    expect(verify.code).toBe(6);
    expect(errorCode(verify.stdout)).toBe('AUDIT_ROLLBACK');
    const sign = cli.run(['sign', file('again.psbt'), '--out', file('rolled.out')]);
    expect(sign.code).toBe(6);
  });
});

describe('help', () => {
  it('--help works on every command', async () => {
    const commands = [
      [],
      ['init'],
      ['keys'],
      ['keys', 'generate'],
      ['keys', 'list'],
      ['keys', 'show'],
      ['inspect'],
      ['approve'],
      ['sign'],
      ['officer', 'keygen'],
      ['policy', 'show'],
      ['policy', 'sign'],
      ['policy', 'apply'],
      ['audit', 'verify'],
      ['audit', 'export'],
      ['qr', 'encode'],
      ['qr', 'decode'],
    ];
    // Help reads nothing of the home: four processes at a time, each result checked.
    for (let i = 0; i < commands.length; i += 4) {
      const batch = commands.slice(i, i + 4);
      const results = await Promise.all(batch.map((command) => cli.runAsync([...command, '--help'])));
      results.forEach((result, j) => {
        expect(result.code, batch[j]!.join(' ')).toBe(0);
        expect(result.stdout).toMatch(/Usage: coldsign/);
      });
    }
  });
});
