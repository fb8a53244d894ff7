/**
 * `--out` never replaces an existing file unless `--force`, and never writes inside COLDSIGN_HOME (an output
 * over coldsign.db used to leave an appliance that refused to start). Real CLI, SoftHSM2 and SQLite.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createReadyHome, errorCode, PASS, transferRequest, type ReadyHome } from './home-fixture.js';

let home: ReadyHome;
let homeDir: string;
const digest = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

beforeAll(() => {
  home = createReadyHome();
  homeDir = home.cli.env.COLDSIGN_HOME!;
  writeFileSync(home.file('request.json'), JSON.stringify(transferRequest(home.ethAddress, '1000', 0)));
});
afterAll(() => home?.cli.cleanup());

describe('an existing file', () => {
  it('sign refuses to replace it before signing anything; --force replaces it', () => {
    writeFileSync(home.file('taken.sig'), 'keep me');
    const refused = home.cli.run([
      'sign',
      home.file('request.json'),
      '--out',
      home.file('taken.sig'),
      '--json',
    ]);
    expect(refused.code).toBe(2);
    expect(errorCode(refused.stdout)).toBe('OUTPUT_EXISTS');
    expect(refused.stderr).toContain('--force');
    expect(readFileSync(home.file('taken.sig'), 'utf8')).toBe('keep me');
    const forced = home.cli.run([
      'sign',
      home.file('request.json'),
      '--out',
      home.file('taken.sig'),
      '--force',
      '--json',
    ]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(home.file('taken.sig'), 'utf8')).not.toBe('keep me');
  });

  it('an output directory keeps an earlier output of the same request unless --force', () => {
    mkdirSync(home.file('outs'));
    expect(home.cli.run(['sign', home.file('request.json'), '--out', home.file('outs')]).code).toBe(0);
    const again = home.cli.run(['sign', home.file('request.json'), '--out', home.file('outs'), '--json']);
    expect(again.code).toBe(2);
    expect(errorCode(again.stdout)).toBe('OUTPUT_EXISTS');
    // Its review was recorded and is covered by a checkpoint: nothing is left for the next start-up to discard.
    const db = new Database(join(homeDir, 'coldsign.db'), { readonly: true });
    const [last, covered] = ['audit_log', 'audit_checkpoints'].map(
      (table) => (db.prepare(`SELECT MAX(seq) AS n FROM ${table}`).get() as { n: number }).n,
    );
    db.close();
    expect(covered).toBe(last);
    expect(
      home.cli.run(['sign', home.file('request.json'), '--out', home.file('outs'), '--force']).code,
    ).toBe(0);
    const after = new Database(join(homeDir, 'coldsign.db'), { readonly: true });
    const discarded = after
      .prepare("SELECT COUNT(*) AS n FROM audit_log WHERE type = 'audit.discarded'")
      .get();
    after.close();
    expect(discarded).toEqual({ n: 0 });
  });

  it('audit export and approve refuse an existing file too', () => {
    writeFileSync(home.file('exists.txt'), 'keep me');
    const exported = home.cli.run(['audit', 'export', '--out', home.file('exists.txt'), '--json']);
    expect(errorCode(exported.stdout)).toBe('OUTPUT_EXISTS');
    const approved = home.cli.run(
      [
        'approve',
        home.file('request.json'),
        '--key',
        home.file('alice.pem'),
        '--out',
        home.file('exists.txt'),
        '--json',
      ],
      { COLDSIGN_PASSPHRASE: PASS.alice },
    );
    expect(errorCode(approved.stdout)).toBe('OUTPUT_EXISTS');
    expect(readFileSync(home.file('exists.txt'), 'utf8')).toBe('keep me');
  });
});

describe('inside the home', () => {
  it('--out $COLDSIGN_HOME/coldsign.db is refused even with --force, and the database is intact', () => {
    const db = join(homeDir, 'coldsign.db');
    const before = digest(db);
    for (const command of [
      ['sign', home.file('request.json'), '--out', db, '--force', '--json'],
      ['audit', 'export', '--out', db, '--force', '--json'],
    ]) {
      const result = home.cli.run(command);
      expect(result.code).toBe(2);
      expect(errorCode(result.stdout)).toBe('OUTPUT_INSIDE_HOME');
    }
    expect(digest(db)).toBe(before);
    const verify = home.cli.run(['audit', 'verify']);
    expect(verify.code, verify.stderr).toBe(0);
  });

  it('a new file inside the home, or through a symbolic link into it, is refused', () => {
    const inside = home.cli.run(['audit', 'export', '--out', join(homeDir, 'export.jsonl'), '--json']);
    expect(errorCode(inside.stdout)).toBe('OUTPUT_INSIDE_HOME');
    expect(existsSync(join(homeDir, 'export.jsonl'))).toBe(false);
    symlinkSync(homeDir, home.file('looks-harmless'));
    const linked = home.cli.run([
      'sign',
      home.file('request.json'),
      '--out',
      home.file('looks-harmless/config.json'),
      '--force',
      '--json',
    ]);
    expect(linked.code).toBe(2);
    expect(errorCode(linked.stdout)).toBe('OUTPUT_INSIDE_HOME');
    expect(home.cli.run(['keys', 'list']).code).toBe(0);
  });
});
