/**
 * Duplicate JSON keys (RFC 8259 §4 leaves them to the reader) are refused in every JSON coldsign reads:
 * policy documents, request documents, approvals, the home's config and audit exports. Real CLI, real
 * SoftHSM2, real SQLite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createReadyHome,
  errorCode,
  PASS,
  policyDoc,
  transferRequest,
  type ReadyHome,
} from './home-fixture.js';

const ONE_TENTH_ETH = '100000000000000000';
let home: ReadyHome;

beforeAll(() => {
  home = createReadyHome({ approvals: 1 });
});
afterAll(() => home?.cli.cleanup());

describe('policy documents', () => {
  it('policy sign refuses a policy with maxAmount twice and leaves the file as it was', () => {
    const doc = JSON.stringify(policyDoc(2)).replace(
      '"maxAmount":"1"',
      '"maxAmount":"0.5","maxAmount":"100"',
    );
    expect(doc).toContain('"maxAmount":"0.5","maxAmount":"100"');
    writeFileSync(home.file('dup-policy.json'), doc);
    const result = home.cli.run(
      ['policy', 'sign', home.file('dup-policy.json'), '--key', home.file('alice.pem'), '--json'],
      {
        COLDSIGN_PASSPHRASE: PASS.alice,
      },
    );
    expect(result.code).toBe(3);
    expect(errorCode(result.stdout)).toBe('JSON_DUPLICATE_KEY');
    expect(result.stderr).toContain('"maxAmount" more than once');
    expect(readFileSync(home.file('dup-policy.json'), 'utf8')).toBe(doc);
  });

  it('policy apply refuses a duplicate key hidden by a unicode escape', () => {
    const doc = JSON.stringify(policyDoc(2)).replace(
      '"maxAmount":"1"',
      '"maxAmount":"1","max\\u0041mount":"100"',
    );
    writeFileSync(home.file('dup-escaped.json'), doc);
    const result = home.cli.run(['policy', 'apply', home.file('dup-escaped.json'), '--json']);
    expect(result.code).toBe(3);
    expect(errorCode(result.stdout)).toBe('JSON_DUPLICATE_KEY');
  });

  it('policy apply refuses a file over 1 MiB (the limit the app uses too) before reading it', () => {
    const doc = JSON.stringify({ ...policyDoc(2), padding: 'x'.repeat(1024 * 1024) });
    writeFileSync(home.file('huge-policy.json'), doc);
    const result = home.cli.run(['policy', 'apply', home.file('huge-policy.json'), '--json']);
    expect(result.code).toBe(3);
    expect(errorCode(result.stdout)).toBe('POLICY_INVALID');
    expect(result.stderr).toContain('larger than 1 MiB');
  });
});

describe('request documents', () => {
  it('refuses a request with "to" twice, in inspect and in sign, and writes nothing', () => {
    const request = JSON.stringify(transferRequest(home.ethAddress, ONE_TENTH_ETH, 0));
    const attacker = '0x3333333333333333333333333333333333333333';
    const duplicated = request.replace(/"to":"(0x[0-9a-fA-F]{40})"/, `"to":"$1","to":"${attacker}"`);
    expect(duplicated).toContain(`"to":"${attacker}"`);
    writeFileSync(home.file('dup-request.json'), duplicated);
    const inspected = home.cli.run(['inspect', home.file('dup-request.json'), '--json']);
    expect(inspected.code).toBe(3);
    expect(errorCode(inspected.stdout)).toBe('JSON_DUPLICATE_KEY');
    expect(inspected.stderr).toContain('"to" more than once');
    const signed = home.cli.run([
      'sign',
      home.file('dup-request.json'),
      '--out',
      home.file('dup.sig'),
      '--json',
    ]);
    expect(signed.code).toBe(3);
    expect(existsSync(home.file('dup.sig'))).toBe(false);
  });

  it('still reads the same request without the duplicate (the refusal is about the key, not the request)', () => {
    writeFileSync(
      home.file('request.json'),
      JSON.stringify(transferRequest(home.ethAddress, ONE_TENTH_ETH, 0)),
    );
    const inspected = home.cli.run(['inspect', home.file('request.json'), '--json']);
    expect(inspected.code, inspected.stderr).toBe(0);
  });
});

describe('approvals', () => {
  it('sign refuses an approval with a duplicate key; the genuine approval signs', () => {
    writeFileSync(
      home.file('request.json'),
      JSON.stringify(transferRequest(home.ethAddress, ONE_TENTH_ETH, 1)),
    );
    const approved = home.cli.run(
      [
        'approve',
        home.file('request.json'),
        '--key',
        home.file('alice.pem'),
        '--out',
        home.file('alice.approval.json'),
        '--json',
      ],
      { COLDSIGN_PASSPHRASE: PASS.alice },
    );
    expect(approved.code, approved.stderr).toBe(0);
    const genuine = readFileSync(home.file('alice.approval.json'), 'utf8');
    const duplicated = genuine.replace(/("officer":\s*"alice")/, '"officer": "bob", $1');
    expect(duplicated).not.toBe(genuine);
    writeFileSync(home.file('dup.approval.json'), duplicated);
    const refused = home.cli.run([
      'sign',
      home.file('request.json'),
      '--approval',
      home.file('dup.approval.json'),
      '--out',
      home.file('out.sig'),
      '--json',
    ]);
    expect(refused.code).toBe(3);
    expect(errorCode(refused.stdout)).toBe('JSON_DUPLICATE_KEY');
    expect(existsSync(home.file('out.sig'))).toBe(false);
    const signed = home.cli.run([
      'sign',
      home.file('request.json'),
      '--approval',
      home.file('alice.approval.json'),
      '--out',
      home.file('out.sig'),
      '--json',
    ]);
    expect(signed.code, signed.stderr).toBe(0);
    expect(existsSync(home.file('out.sig'))).toBe(true);
  });
});

describe('the home and audit exports', () => {
  it('an audit export line with a duplicate key does not verify offline', () => {
    const exported = home.cli.run(['audit', 'export', '--out', home.file('audit.jsonl')]);
    expect(exported.code, exported.stderr).toBe(0);
    const lines = readFileSync(home.file('audit.jsonl'), 'utf8').split('\n');
    expect(home.cli.run(['audit', 'verify', '--file', home.file('audit.jsonl')]).code).toBe(0);
    const last = lines.findLastIndex((line) => line.startsWith('{"seq":'));
    lines[last] = lines[last]!.replace(/^\{/, '{"seq":999999,');
    writeFileSync(home.file('audit-dup.jsonl'), lines.join('\n'));
    const result = home.cli.run(['audit', 'verify', '--file', home.file('audit-dup.jsonl'), '--json']);
    expect(result.code).not.toBe(0);
    expect(errorCode(result.stdout)).toBe('JSON_DUPLICATE_KEY');
  });

  it('a config.json with a duplicate key is refused before anything runs', () => {
    const configPath = join(home.cli.env.COLDSIGN_HOME!, 'config.json');
    const config = readFileSync(configPath, 'utf8');
    try {
      writeFileSync(configPath, config.replace('"version": 1,', '"version": 1, "version": 1,'));
      const result = home.cli.run(['keys', 'list', '--json']);
      expect(result.code).toBe(3);
      expect(errorCode(result.stdout)).toBe('JSON_DUPLICATE_KEY');
    } finally {
      writeFileSync(configPath, config);
    }
    expect(home.cli.run(['keys', 'list']).code).toBe(0);
  });
});
