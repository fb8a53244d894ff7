// Bitcoin message signing end to end through the real CLI on SoftHSM2: a request document
// {"type":"bip322",…} is inspected and signed under a Bitcoin `message` rule, and the signature is verified by
// independent libraries (bip322-js for BIP-322 simple, bitcoinjs-message for the legacy BIP-137 form).
// Refusals (not our address, no message rule, over maxMessageBytes, malformed) end in their code, nothing signed.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Verifier } from 'bip322-js';
import bitcoinMessage from 'bitcoinjs-message';
import { createReadyHome, errorCode, OPS, signPolicyFile, type ReadyHome } from '../e2e/home-fixture.js';

let home: ReadyHome;
let p2wpkh: string;
let p2pkh: string;
let p2shP2wpkh: string;
let other: string;

interface AuditLine {
  type: string;
  data: Record<string, unknown>;
}

function generate(label: string, script: string): string {
  const made = home.cli.run(['keys', 'generate', '--chain', 'btc', '--label', label, '--script', script]);
  expect(made.code, made.stderr).toBe(0);
  const keys = home.cli
    .run(['keys', 'list', '--json'])
    .json<{ keys: Array<{ label: string; address: string }> }>();
  return keys.keys.find((k) => k.label === label)!.address;
}

/** Policy version `version`: the EVM rule, a Bitcoin transfer-only rule, and (optionally) a message rule. */
function applyPolicy(version: number, messageRule: Record<string, unknown> | null): void {
  const rules: unknown[] = [
    {
      id: 'eth-ops',
      chain: 'evm',
      chainIds: [1],
      kinds: ['transfer'],
      destinations: [{ address: OPS, label: 'Ops' }],
      maxAmount: '1',
    },
    {
      id: 'btc-pay',
      chain: 'btc',
      network: 'mainnet',
      kinds: ['transfer'],
      destinations: [{ address: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', label: 'Payee' }],
      maxAmount: '0.1',
    },
  ];
  if (messageRule) rules.push(messageRule);
  const path = home.file(`policy-${version}.json`);
  writeFileSync(path, JSON.stringify({ version, appliance: home.auditPublicKey, rules }));
  signPolicyFile(home, path);
  const applied = home.cli.run(['policy', 'apply', path]);
  expect(applied.code, applied.stderr).toBe(0);
}

function request(name: string, doc: unknown): string {
  const path = home.file(`${name}.json`);
  writeFileSync(path, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return path;
}

function auditLines(): AuditLine[] {
  const out = home.file(`audit-${Date.now()}-${Math.random()}.jsonl`);
  const exported = home.cli.run(['audit', 'export', '--out', out]);
  expect(exported.code, exported.stderr).toBe(0);
  return readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditLine & Record<string, unknown>)
    .map((line) => ({
      type: String(line.type),
      data: (line.data ?? line.payload ?? line) as Record<string, unknown>,
    }));
}

function signatureCount(): number {
  return auditLines().filter((l) => l.type === 'signature').length;
}

/** Signs `doc`; returns the written output document and the --json report. */
function sign(name: string, doc: unknown) {
  const out = home.file(`${name}.signed.json`);
  const result = home.cli.run(['sign', request(name, doc), '--out', out, '--json']);
  expect(result.code, result.stderr).toBe(0);
  return {
    output: JSON.parse(readFileSync(out, 'utf8')) as Record<string, string>,
    report: result.json<Record<string, unknown>>(),
  };
}

/** Signing `doc` is refused with `code`; no signature is recorded and no output is written. */
function expectRefused(name: string, doc: unknown, code: string, exit: number): string {
  const before = signatureCount();
  const out = home.file(`${name}.signed.json`);
  const result = home.cli.run(['sign', request(name, doc), '--out', out, '--json']);
  expect(result.code, result.stderr).toBe(exit);
  expect(errorCode(result.stdout)).toBe(code);
  expect(existsSync(out)).toBe(false);
  expect(signatureCount()).toBe(before);
  return result.stdout;
}

beforeAll(() => {
  home = createReadyHome();
  p2wpkh = generate('proof-wpkh', 'p2wpkh');
  p2pkh = generate('proof-pkh', 'p2pkh');
  p2shP2wpkh = generate('proof-sh', 'p2sh-p2wpkh');
  other = generate('other-wpkh', 'p2wpkh');
  applyPolicy(2, null);
}, 120_000);

afterAll(() => home?.cli.cleanup());

describe('without a Bitcoin message rule (fail closed)', () => {
  it('a transfer-only Bitcoin rule refuses a message of our P2WPKH address: POLICY_DENIED, nothing signed', () => {
    const stdout = expectRefused(
      'no-rule',
      { type: 'bip322', address: p2wpkh, message: 'I own this address' },
      'POLICY_DENIED',
      4,
    );
    expect(stdout).toMatch(/does not allow requests of kind message/);
  });

  it('the policy refuses "message" with maxMessageBytes on a rule that does not allow messages', () => {
    const path = home.file('bad-policy.json');
    writeFileSync(
      path,
      JSON.stringify({
        version: 9,
        rules: [{ id: 'b', chain: 'btc', network: 'mainnet', kinds: ['transfer'], maxMessageBytes: 10 }],
      }),
    );
    const shown = home.cli.run(['policy', 'apply', path, '--json']);
    expect(shown.code).toBe(3);
    expect(errorCode(shown.stdout)).toBe('POLICY_INVALID');
    expect(shown.stdout).toMatch(/maxMessageBytes/);
  });
});

describe('under a message rule for keys proof-wpkh and proof-pkh', () => {
  beforeAll(() => {
    applyPolicy(3, {
      id: 'btc-proofs',
      chain: 'btc',
      network: 'mainnet',
      kinds: ['message'],
      keys: ['proof-wpkh', 'proof-pkh', 'proof-sh'],
      maxMessageBytes: 200,
    });
  }, 60_000);

  it('inspect shows the message, the address and the format, and records the request', () => {
    const message = 'Travel Rule proof: this address belongs to ACME Ltd.';
    const result = home.cli.run([
      'inspect',
      request('inspect', { type: 'bip322', address: p2wpkh, message }),
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const report = result.json<{
      chain: string;
      kind: string;
      summary: Record<string, unknown>;
      policy: { allowed: boolean; rule: string };
      review?: { message: { text: string }; facts: Array<{ label: string; value: string }> };
    }>();
    expect(report.chain).toBe('btc');
    expect(report.kind).toBe('message');
    expect(report.summary.address).toBe(p2wpkh);
    expect(report.summary.format).toBe('bip322');
    expect(report.summary.message).toBe(message);
    expect(report.policy).toMatchObject({ allowed: true, rule: 'btc-proofs' });
    const text = home.cli.run(['inspect', home.file('inspect.json')]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(JSON.stringify(message));
    expect(text.stdout).toContain(p2wpkh);
    expect(text.stdout).toMatch(/BIP-322 simple/);
  });

  it('signs a BIP-322 simple proof for our P2WPKH address; bip322-js verifies it; the log holds the signature', () => {
    const message = 'I control this address. Nonce: 4f1c2a';
    const { output, report } = sign('wpkh', { type: 'bip322', address: p2wpkh, message });
    expect(output).toMatchObject({ type: 'bip322', address: p2wpkh, message, format: 'bip322' });
    expect(Verifier.verifySignature(p2wpkh, message, output.signature!)).toBe(true);
    expect(Verifier.verifySignature(p2wpkh, `${message}.`, output.signature!)).toBe(false);
    expect(Verifier.verifySignature(other, message, output.signature!)).toBe(false);
    expect(report).toMatchObject({ status: 'signed', kind: 'message' });
    const signed = auditLines().filter((l) => l.type === 'signature');
    expect(JSON.stringify(signed.at(-1))).toContain(String(report.requestId));
  });

  it('signs the legacy signed message for P2WPKH (BIP-137 header 39+) and P2PKH (31+); bitcoinjs-message verifies both', () => {
    const message = 'Legacy proof of ownership';
    const wpkh = sign('legacy-wpkh', { type: 'bip322', address: p2wpkh, message, format: 'legacy' }).output;
    expect(wpkh.format).toBe('legacy');
    const header = Buffer.from(wpkh.signature!, 'base64')[0]!;
    expect(header === 39 || header === 40).toBe(true);
    expect(bitcoinMessage.verify(message, p2wpkh, wpkh.signature!, undefined, true)).toBe(true);
    expect(Verifier.verifySignature(p2wpkh, message, wpkh.signature!)).toBe(true);
    const pkh = sign('legacy-pkh', { type: 'bip322', address: p2pkh, message }).output;
    expect(pkh.format).toBe('legacy');
    expect(bitcoinMessage.verify(message, p2pkh, pkh.signature!)).toBe(true);
    expect(bitcoinMessage.verify(`${message}?`, p2pkh, pkh.signature!)).toBe(false);
  });

  it('signs a hex message as its bytes', () => {
    const { output } = sign('hex', {
      type: 'bip322',
      address: p2wpkh,
      message: '48656c6c6f',
      encoding: 'hex',
    });
    expect(output.message).toBe('48656c6c6f');
    expect(Verifier.verifySignature(p2wpkh, 'Hello', output.signature!)).toBe(true);
  });

  it('refuses a message for an address that is not ours: BTC_MESSAGE_ADDRESS_NOT_OURS', () => {
    expectRefused(
      'not-ours',
      { type: 'bip322', address: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', message: 'mine?' },
      'BTC_MESSAGE_ADDRESS_NOT_OURS',
      3,
    );
  });

  it('refuses a message of a key outside the rule: POLICY_DENIED', () => {
    expectRefused('other-key', { type: 'bip322', address: other, message: 'hi' }, 'POLICY_DENIED', 4);
  });

  it("refuses a message over the rule's maxMessageBytes: POLICY_DENIED naming the size", () => {
    const stdout = expectRefused(
      'too-long',
      { type: 'bip322', address: p2wpkh, message: 'x'.repeat(201) },
      'POLICY_DENIED',
      4,
    );
    expect(stdout).toMatch(/201 bytes/);
  });

  it('refuses formats the address cannot carry: BTC_MESSAGE_FORMAT_UNSUPPORTED', () => {
    expectRefused(
      'bip322-pkh',
      { type: 'bip322', address: p2pkh, message: 'x', format: 'bip322' },
      'BTC_MESSAGE_FORMAT_UNSUPPORTED',
      3,
    );
    expectRefused(
      'sh',
      { type: 'bip322', address: p2shP2wpkh, message: 'x' },
      'BTC_MESSAGE_FORMAT_UNSUPPORTED',
      3,
    );
  });

  it('refuses malformed requests: BTC_MESSAGE_INVALID, JSON_DUPLICATE_KEY, BTC_MESSAGE_TOO_LARGE', () => {
    expectRefused(
      'unknown-field',
      { type: 'bip322', address: p2wpkh, message: 'x', extra: 1 },
      'BTC_MESSAGE_INVALID',
      3,
    );
    expectRefused('no-message', { type: 'bip322', address: p2wpkh }, 'BTC_MESSAGE_INVALID', 3);
    expectRefused(
      'bad-format',
      { type: 'bip322', address: p2wpkh, message: 'x', format: 'bip137' },
      'BTC_MESSAGE_INVALID',
      3,
    );
    expectRefused(
      'bad-hex',
      { type: 'bip322', address: p2wpkh, message: 'zz', encoding: 'hex' },
      'BTC_MESSAGE_INVALID',
      3,
    );
    expectRefused(
      'bad-address',
      { type: 'bip322', address: 'bc1qnotanaddress', message: 'x' },
      'BTC_MESSAGE_INVALID',
      3,
    );
    expectRefused(
      'duplicate',
      `{"type":"bip322","address":"${p2wpkh}","message":"a","message":"b"}`,
      'JSON_DUPLICATE_KEY',
      3,
    );
    expectRefused(
      'huge',
      { type: 'bip322', address: p2wpkh, message: 'ab'.repeat(70_000), encoding: 'hex' },
      'BTC_MESSAGE_TOO_LARGE',
      3,
    );
  });
});

describe('velocity.maxCount counts signed messages', () => {
  beforeAll(() => {
    applyPolicy(4, {
      id: 'proof-counted',
      chain: 'btc',
      network: 'mainnet',
      kinds: ['message'],
      keys: ['proof-wpkh'],
      velocity: { window: '24h', maxCount: 2 },
    });
  }, 60_000);

  it('three messages in one batch under maxCount 2: the batch is refused (POLICY_DENIED), nothing signed', () => {
    const before = signatureCount();
    const dir = home.file('batch-out');
    mkdirSync(dir, { recursive: true });
    const files = [1, 2, 3].map((n) =>
      request(`batch-${n}`, { type: 'bip322', address: p2wpkh, message: `batch proof ${n}` }),
    );
    const result = home.cli.run(['sign', ...files, '--out', dir, '--json']);
    expect(result.code, result.stderr).toBe(4);
    expect(errorCode(result.stdout)).toBe('POLICY_DENIED');
    expect(result.stdout).toMatch(/allows 2 signed requests per 24h/);
    expect(readdirSync(dir)).toEqual([]);
    expect(signatureCount()).toBe(before);
  });

  it('one message at a time: two are signed, the third is refused (POLICY_DENIED)', () => {
    sign('counted-1', { type: 'bip322', address: p2wpkh, message: 'counted proof 1' });
    sign('counted-2', { type: 'bip322', address: p2wpkh, message: 'counted proof 2' });
    const stdout = expectRefused(
      'counted-3',
      { type: 'bip322', address: p2wpkh, message: 'counted proof 3' },
      'POLICY_DENIED',
      4,
    );
    expect(stdout).toMatch(/allows 2 signed requests per 24h; 2 were already signed/);
  });
});
