/**
 * The audit public key is printed with its fingerprint at init, by `audit verify` and `audit export`, and
 * `audit verify --file EXPORT --audit-key HEX` pins it: an export edited and re-signed by a forger's key
 * verifies only against the key it names itself, and is refused once the real key is pinned.
 * The forgery is built with independent code (node:crypto, canonicalize, @noble/curves).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import canonicalizeModule from 'canonicalize';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { createCliHome, type CliHome } from '../support/cli.js';

const canonicalize = canonicalizeModule as unknown as (value: unknown) => string;
const sha256 = (text: string) => createHash('sha256').update(text).digest();
let cli: CliHome;
let auditKey: string;
let fingerprint: string;
const file = (name: string) => `${cli.dir}/${name}`;

interface ExportLine {
  auditPublicKey?: string;
  seq?: number;
  time?: string;
  type?: string;
  payload?: Record<string, unknown>;
  prev?: string;
  hash?: string;
  checkpoint?: { seq: number; head: string; time: string; signature: string; state?: string };
}

/**
 * Rewrites entry 1's payload, re-chains every hash (docs/audit.md) and re-signs every checkpoint with a new key.
 * A checkpoint signs SHA-256 of the JCS form of {domain "coldsign-audit-checkpoint/2", head, seq, state, time}
 * (domain /1 without "state" for checkpoints older than state digests). The added payload field is not one the
 * state projections read, so each checkpoint's state digest stays what the entries project and is re-signed as is.
 */
function forge(exportText: string): string {
  const forger = secp256k1.utils.randomSecretKey();
  const lines = exportText
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as ExportLine);
  const header = lines[0]!;
  header.auditPublicKey = Buffer.from(secp256k1.getPublicKey(forger, true)).toString('hex');
  const entries = lines.filter((l) => 'seq' in l);
  entries[0]!.payload = { ...entries[0]!.payload, forged: 'the attacker rewrote this entry' };
  let prev = '0'.repeat(64);
  const hashes = new Map<number, string>();
  for (const entry of entries) {
    const prefix = JSON.stringify(['coldsign-audit/1', entry.seq, entry.time, entry.type, prev]);
    entry.prev = prev;
    entry.hash = sha256(`${prefix}\n${canonicalize(entry.payload)}`).toString('hex');
    hashes.set(entry.seq!, entry.hash);
    prev = entry.hash;
  }
  for (const line of lines.filter((l) => 'checkpoint' in l)) {
    const c = line.checkpoint!;
    c.head = hashes.get(c.seq)!;
    const digest = sha256(
      canonicalize(
        c.state === undefined
          ? { domain: 'coldsign-audit-checkpoint/1', head: c.head, seq: c.seq, time: c.time }
          : { domain: 'coldsign-audit-checkpoint/2', head: c.head, seq: c.seq, state: c.state, time: c.time },
      ),
    );
    c.signature = Buffer.from(secp256k1.sign(digest, forger, { prehash: false })).toString('hex');
  }
  return `${lines.map((l) => ('seq' in l ? JSON.stringify(l) : canonicalize(l))).join('\n')}\n`;
}

beforeAll(() => {
  cli = createCliHome();
  const init = cli.run(['init', '--json']);
  expect(init.code, init.stderr).toBe(0);
  const report = init.json<{ auditPublicKey: string; auditKeyFingerprint: string }>();
  auditKey = report.auditPublicKey;
  fingerprint = report.auditKeyFingerprint;
  expect(auditKey).toMatch(/^0[23][0-9a-f]{64}$/);
  expect(fingerprint).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){3}$/);
  expect(cli.run(['audit', 'export', '--out', file('audit.jsonl')]).code).toBe(0);
});
afterAll(() => cli?.cleanup());

describe('the audit key is printed', () => {
  it('by init (human text), audit verify and audit export, always the same key and fingerprint', () => {
    const verify = cli.run(['audit', 'verify']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toContain(auditKey);
    expect(verify.stdout).toContain(fingerprint);
    const exported = cli.run(['audit', 'export', '--out', file('second.jsonl')]);
    expect(exported.stdout).toContain(auditKey);
    expect(exported.stdout).toContain(fingerprint);
    const header = JSON.parse(readFileSync(file('audit.jsonl'), 'utf8').split('\n')[0]!) as {
      auditPublicKey: string;
    };
    expect(header.auditPublicKey).toBe(auditKey);
    const other = createCliHome();
    try {
      const init = other.run(['init']);
      expect(init.code, init.stderr).toBe(0);
      expect(init.stdout).toMatch(/Audit public key: 0[23][0-9a-f]{64}/);
      expect(init.stdout).toMatch(/Fingerprint: +[0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4}/);
    } finally {
      other.cleanup();
    }
  });
});

describe('audit verify --file', () => {
  it('without --audit-key says the key is not pinned', () => {
    const result = cli.run(['audit', 'verify', '--file', file('audit.jsonl')]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('NOT pinned');
    expect(cli.run(['audit', 'verify', '--file', file('audit.jsonl'), '--json']).json().pinned).toBe(false);
  });

  it('with the real key pins it and verifies the genuine export', () => {
    const result = cli.run([
      'audit',
      'verify',
      '--file',
      file('audit.jsonl'),
      '--audit-key',
      auditKey,
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toMatchObject({ ok: true, pinned: true, auditPublicKey: auditKey });
  });

  it('a forged export re-signed with another key passes unpinned (as the warning says) and is refused pinned', () => {
    writeFileSync(file('forged.jsonl'), forge(readFileSync(file('audit.jsonl'), 'utf8')));
    const unpinned = cli.run(['audit', 'verify', '--file', file('forged.jsonl'), '--json']);
    expect(unpinned.code, unpinned.stderr).toBe(0); // the forgery is internally consistent
    expect(unpinned.json()).toMatchObject({ ok: true, pinned: false });
    expect(unpinned.json<{ auditPublicKey: string }>().auditPublicKey).not.toBe(auditKey);
    const pinned = cli.run([
      'audit',
      'verify',
      '--file',
      file('forged.jsonl'),
      '--audit-key',
      auditKey,
      '--json',
    ]);
    expect(pinned.code).toBe(6);
    expect(pinned.json<{ error: { code: string } }>().error.code).toBe('AUDIT_CHECKPOINT_INVALID');
  });

  it('refuses a malformed --audit-key as a usage error', () => {
    const result = cli.run([
      'audit',
      'verify',
      '--file',
      file('audit.jsonl'),
      '--audit-key',
      'abc',
      '--json',
    ]);
    expect(result.code).toBe(2);
  });
});
