/**
 * Re-anchor by an officer quorum, end to end on a real SoftHSM2 token used as an external HSM (so a restored
 * database meets an anchor that moved on): backup → more signing → restore → rollback alarm (exit 6) →
 * request → officers sign → apply → signing works again and `audit verify` shows the re-anchor; and the
 * refusals (no quorum, a request changed after signing, expired, stale on another home, nothing wrong,
 * an edited database). Real CLI processes, real SQLite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { findSoftHsmModule } from '../../hsm/softhsm.js';
import { createCliHome, type CliHome, type CliResult } from '../support/cli.js';
import { createTestToken, type TestToken } from '../support/softhsm.js';
import { createReadyHome, errorCode, PASS, transferRequest, type ReadyHome } from './home-fixture.js';

let token: TestToken;
let home: ReadyHome;
let base: CliHome;
const restoredEnv = () => ({ COLDSIGN_HOME: join(base.dir, 'restored') });

/** A CLI home whose `init` uses the test token as an external HSM (module + token label). */
function externalHsmHome(): CliHome {
  base = createCliHome(token.pin);
  const hsmEnv = { SOFTHSM2_CONF: process.env.SOFTHSM2_CONF! };
  return {
    ...base,
    run(args, env = {}, input) {
      const full =
        args[0] === 'init' ? [...args, '--module', findSoftHsmModule(), '--token', token.token] : args;
      return base.run(full, { ...hsmEnv, ...env }, input);
    },
  };
}

function sign(nonce: number, env: Record<string, string> = {}): CliResult {
  const request = home.file(`request-${nonce}.json`);
  writeFileSync(request, JSON.stringify(transferRequest(home.ethAddress, '1000', nonce)));
  return home.cli.run(
    ['sign', request, '--out', home.file(`signed-${nonce}-${env.COLDSIGN_HOME ? 'r' : 'o'}.json`), '--json'],
    env,
  );
}

function officerSign(file: string, officer: keyof typeof PASS, env: Record<string, string> = {}): CliResult {
  return home.cli.run(['audit', 'reanchor', '--sign', file, '--key', home.file(`${officer}.pem`), '--json'], {
    COLDSIGN_PASSPHRASE: PASS[officer],
    ...env,
  });
}

function makeRequest(out: string, env: Record<string, string>): CliResult {
  return home.cli.run(
    [
      'audit',
      'reanchor',
      '--reason',
      'restored the 03:00 backup after a disk failure',
      '--out',
      out,
      '--json',
    ],
    env,
  );
}

beforeAll(() => {
  token = createTestToken('coldsign-reanchor');
  home = createReadyHome({ cli: externalHsmHome() });
}, 600_000);
afterAll(() => {
  base?.cleanup();
  token?.cleanup();
});

describe('a restore under an external HSM, then a re-anchor by the officer quorum', () => {
  it('backs up, signs more, restores: the restored home raises the rollback alarm (exit 6)', () => {
    expect(sign(0).code).toBe(0);
    const backup = home.cli.run(['backup', '--out', home.file('home.backup')]);
    expect(backup.code, backup.stderr).toBe(0);
    expect(sign(1).code).toBe(0);
    const restored = home.cli.run(['restore', home.file('home.backup')], restoredEnv());
    expect(restored.code, restored.stderr).toBe(0);
    const refused = sign(2, restoredEnv());
    expect(refused.code).toBe(6);
    expect(errorCode(refused.stdout)).toBe('AUDIT_ROLLBACK');
  });

  it('writes a request naming the alarm, the database head and the HSM anchor', () => {
    const out = home.file('reanchor.json');
    const made = makeRequest(out, restoredEnv());
    expect(made.code, made.stderr).toBe(0);
    const request = JSON.parse(readFileSync(out, 'utf8'));
    expect(request.type).toBe('coldsign-reanchor-request');
    expect(request.found.anchors).toHaveLength(1);
    expect(request.found.anchors[0].status).toBe('unrecorded');
    expect(request.found.anchors[0].seq).toBeGreaterThan(request.found.recordedAnchorSeq);
    const verify = home.cli.run(['audit', 'verify', '--json'], restoredEnv());
    expect(verify.code).toBe(6); // making a request changes nothing
    const noReason = home.cli.run(
      ['audit', 'reanchor', '--out', home.file('x.json'), '--json'],
      restoredEnv(),
    );
    expect(errorCode(noReason.stdout)).toBe('USAGE');
  });

  it('refuses without the quorum: no signature, then one of two officers', () => {
    const out = home.file('reanchor.json');
    const none = home.cli.run(['audit', 'reanchor', '--apply', out, '--json'], restoredEnv());
    expect(none.code).toBe(6);
    expect(errorCode(none.stdout)).toBe('REANCHOR_QUORUM_MISSING');
    expect(officerSign(out, 'alice').code).toBe(0);
    const one = home.cli.run(['audit', 'reanchor', '--apply', out, '--json'], restoredEnv());
    expect(errorCode(one.stdout)).toBe('REANCHOR_QUORUM_MISSING');
    expect(sign(2, restoredEnv()).code).toBe(6); // still refused
  });

  it('refuses a request changed after the officers signed it', () => {
    const out = home.file('reanchor.json');
    expect(officerSign(out, 'bob').code).toBe(0);
    const original = readFileSync(out, 'utf8');
    const changed = home.file('reanchor-changed.json');
    writeFileSync(changed, original.replace('disk failure', 'routine'));
    const applied = home.cli.run(['audit', 'reanchor', '--apply', changed, '--json'], restoredEnv());
    expect(applied.code).toBe(6);
    expect(errorCode(applied.stdout)).toBe('REANCHOR_SIGNATURE_INVALID');
  });

  it('refuses an expired request even with the quorum', () => {
    const out = home.file('reanchor-expired.json');
    expect(makeRequest(out, restoredEnv()).code).toBe(0);
    const request = JSON.parse(readFileSync(out, 'utf8'));
    request.createdAt = '2020-01-01T00:00:00.000Z';
    request.expiresAt = '2020-01-02T00:00:00.000Z';
    writeFileSync(out, JSON.stringify(request));
    expect(officerSign(out, 'alice').code).toBe(0);
    expect(officerSign(out, 'bob').code).toBe(0);
    const applied = home.cli.run(['audit', 'reanchor', '--apply', out, '--json'], restoredEnv());
    expect(applied.code).toBe(4);
    expect(errorCode(applied.stdout)).toBe('REANCHOR_EXPIRED');
  });

  it('refuses an edited database: a re-anchor accepts an older log, never an edited one', () => {
    const edited = { COLDSIGN_HOME: join(base.dir, 'edited') };
    expect(home.cli.run(['restore', home.file('home.backup')], edited).code).toBe(0);
    const out = home.file('reanchor-edited.json');
    expect(makeRequest(out, edited).code).toBe(0);
    expect(officerSign(out, 'alice').code).toBe(0);
    expect(officerSign(out, 'bob').code).toBe(0);
    const db = new Database(join(edited.COLDSIGN_HOME, 'coldsign.db'));
    const edit = db
      .prepare(
        "UPDATE audit_log SET payload = replace(payload, 'vault-eth', 'vault-ETH') WHERE seq = (SELECT MIN(seq) FROM audit_log WHERE type = 'key.registered')",
      )
      .run();
    expect(edit.changes).toBe(1);
    db.close();
    const applied = home.cli.run(['audit', 'reanchor', '--apply', out, '--json'], edited);
    expect(applied.code).toBe(6);
    expect(errorCode(applied.stdout)).toBe('AUDIT_TAMPERED');
  });

  it('applies with the quorum: audited entry, new anchor, signing works, audit verify shows the re-anchor', () => {
    const out = home.file('reanchor.json');
    const applied = home.cli.run(['audit', 'reanchor', '--apply', out, '--json'], restoredEnv());
    expect(applied.code, applied.stderr).toBe(0);
    const outcome = applied.json<{
      officers: string[];
      entry: { seq: number };
      anchor: Array<{ status: string; seq: number; pinnedSeq: number }>;
    }>();
    expect(outcome.officers.sort()).toEqual(['alice', 'bob']);
    expect(outcome.anchor).toHaveLength(1);
    expect(outcome.anchor[0]!.status).toBe('valid');
    expect(outcome.anchor[0]!.pinnedSeq).toBe(outcome.entry.seq);
    const request = JSON.parse(readFileSync(out, 'utf8'));
    expect(outcome.anchor[0]!.seq).toBeGreaterThan(request.found.anchors[0].seq);

    const signed = sign(2, restoredEnv());
    expect(signed.code, signed.stderr).toBe(0);
    const verify = home.cli.run(['audit', 'verify'], restoredEnv());
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toContain(`re-anchored at entry ${outcome.entry.seq}`);
    expect(verify.stdout).toContain('alice, bob');
    const exported = home.cli.run(['audit', 'export', '--out', home.file('after.jsonl')], restoredEnv());
    expect(exported.code).toBe(0);
    const entry = readFileSync(home.file('after.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .find((line) => line.type === 'audit.reanchored');
    expect(entry).toBeDefined();
    const payload = typeof entry.payload === 'string' ? JSON.parse(entry.payload) : entry.payload;
    expect(payload.oldAnchors[0].seq).toBe(request.found.anchors[0].seq);
    expect(payload.databaseHead).toEqual(request.found.databaseHead);
  });

  it('refuses a replay: nothing is wrong any more here, and the same approvals are stale on another home', () => {
    const out = home.file('reanchor.json');
    const again = home.cli.run(['audit', 'reanchor', '--apply', out, '--json'], restoredEnv());
    expect(again.code).toBe(2);
    expect(errorCode(again.stdout)).toBe('REANCHOR_NOT_NEEDED');
    const healthy = makeRequest(home.file('not-needed.json'), restoredEnv());
    expect(errorCode(healthy.stdout)).toBe('REANCHOR_NOT_NEEDED');
    // The original home now lags the anchor the restored home moved: it is in alarm, but not the one signed.
    expect(sign(3).code).toBe(6);
    const elsewhere = home.cli.run(['audit', 'reanchor', '--apply', out, '--json']);
    expect(elsewhere.code).toBe(4);
    expect(errorCode(elsewhere.stdout)).toBe('REANCHOR_STALE');
  });
});
