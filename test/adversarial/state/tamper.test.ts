/**
 * State outside the chain: an attacker with plain SQLite access to the home (no PIN) edits the state
 * tables the policy depends on. Officers, governance, keys, policies (wallets are part of the policy
 * document), velocity and approvals are projections of the audit log whose heads every checkpoint
 * commits to, so each single-row edit, insert or delete is detected (exit 6) or has no effect on a
 * decision — and `audit verify` names it. Real `bin/coldsign` processes, an embedded SoftHSM2 token,
 * the SQLite file edited through better-sqlite3 as `sqlite3` would.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as bitcoin from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPsbt } from '../../../scripts/demo/coordinator.js';
import { type CliHome } from '../../support/cli.js';
import {
  copyHome,
  createApplianceHome,
  officerPassphrase,
  type ApplianceHome,
} from '../../support/appliance-home.js';

const network = bitcoin.networks.bitcoin;
const EXCHANGE = bitcoin.payments.p2wpkh({
  pubkey: Buffer.from('0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798', 'hex'),
}).address!;
/** The attacker's key (a public test point, not ours). */
const ATTACKER_PUBKEY = '02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5';
const ATTACKER = bitcoin.payments.p2wpkh({ pubkey: Buffer.from(ATTACKER_PUBKEY, 'hex'), network }).address!;
type Officer = 'alice' | 'bob' | 'mallory' | 'eve';

let appliance: ApplianceHome;
let cli: CliHome;
let btcAddress: string;
const pubkeys: Partial<Record<Officer, string>> = {};
const file = (name: string) => join(cli.dir, name);
const errorCode = (stdout: string) => (JSON.parse(stdout) as { error?: { code: string } }).error?.code;

function policyDoc(version: number) {
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
        velocity: { window: '24h', maxAmount: '0.6' },
        approvals: 0,
      },
      {
        id: 'btc-large',
        chain: 'btc',
        network: 'mainnet',
        keys: ['vault-btc'],
        destinations: [{ address: EXCHANGE, label: 'Exchange' }],
        maxAmount: '0.05',
        approvals: 1,
      },
    ],
  };
}

/** A copy of the home (database and token) for one case: the cases share nothing and run concurrently. */
const copyOf = (name: string): string => copyHome(cli.env.COLDSIGN_HOME!, file(name));

function edit(home: string, sql: (db: Database.Database) => void): void {
  const db = new Database(join(home, 'coldsign.db'));
  sql(db);
  db.close();
}

beforeAll(() => {
  // mallory and eve are the attacker's officers: never enrolled
  appliance = createApplianceHome({
    officers: ['alice', 'bob', 'mallory', 'eve'],
    keys: [{ chain: 'btc', label: 'vault-btc' }],
    policy: () => policyDoc(1),
  });
  cli = appliance.cli;
  Object.assign(pubkeys, appliance.officerKeys);
  btcAddress = appliance.keys['vault-btc']!.address;
  // 0.4 BTC signed: the velocity window (0.6 BTC / 24 h) has 0.2 BTC left
  writeFileSync(file('first.psbt'), buildPsbt(btcAddress, EXCHANGE, 40_000_000n, 2_000n, [60_000_000n]));
  const first = cli.run(['sign', file('first.psbt'), '--out', file('first.out')]);
  expect(first.code, first.stderr).toBe(0);
  // a small one with alice's approval, so approvals and velocity both hold rows
  writeFileSync(
    file('approved.psbt'),
    buildPsbt(btcAddress, EXCHANGE, 1_000_000n, 2_000n, [5_000_000n, 5_000_000n]),
  );
  const approve = cli.run(
    ['approve', file('approved.psbt'), '--key', file('alice.pem'), '--out', file('alice.json')],
    {
      COLDSIGN_PASSPHRASE: officerPassphrase('alice'),
    },
  );
  expect(approve.code, approve.stderr).toBe(0);
  const approved = cli.run([
    'sign',
    file('approved.psbt'),
    '--out',
    file('approved.out'),
    '--approval',
    file('alice.json'),
  ]);
  expect(approved.code, approved.stderr).toBe(0);
  // the probe: another 0.4 BTC, over the window: refused (exit 4) on the untouched home
  writeFileSync(file('probe.psbt'), buildPsbt(btcAddress, EXCHANGE, 40_000_000n, 2_000n, [70_000_000n]));
});
afterAll(() => cli?.cleanup());

describe.concurrent('the three attacks on state outside the chain now fail', () => {
  it('inserted officers do not make an attacker-signed policy apply (exit 6)', async ({ expect }) => {
    const home = copyOf('officers-attack');
    edit(home, (db) => {
      const last = db.prepare('SELECT seq, link FROM officers ORDER BY seq DESC, pos DESC LIMIT 1').get() as {
        seq: number;
        link: string;
      };
      for (const [i, name] of (['mallory', 'eve'] as const).entries())
        db.prepare(
          'INSERT INTO officers (seq, pos, name, public_key, enrolled_at, link) VALUES (?, ?, ?, ?, ?, ?)',
        ).run(last.seq, 10 + i, name, pubkeys[name], new Date().toISOString(), last.link);
    });
    writeFileSync(
      file('evil-policy.json'),
      JSON.stringify({
        ...policyDoc(2),
        appliance: appliance.auditPublicKey,
        rules: [
          {
            ...policyDoc(2).rules[0]!,
            destinations: [{ address: ATTACKER, label: 'x' }],
            maxAmount: '100',
            velocity: undefined,
          },
        ],
      }),
    );
    appliance.signPolicy(file('evil-policy.json'), ['mallory', 'eve']);
    const apply = await cli.runAsync(['policy', 'apply', file('evil-policy.json'), '--json'], {
      COLDSIGN_HOME: home,
    });
    expect(apply.code, apply.stdout).toBe(6);
    expect(errorCode(apply.stdout)).toBe('AUDIT_TAMPERED');
  });

  it('a forged row in keys does not make the attacker’s output our change (exit 6, nothing written)', async ({
    expect,
  }) => {
    const home = copyOf('keys-attack');
    edit(home, (db) => {
      const last = db.prepare('SELECT * FROM keys ORDER BY seq DESC LIMIT 1').get() as Record<
        string,
        unknown
      >;
      db.prepare(
        'INSERT INTO keys (seq, pos, label, chain, public_key, key_id, address, network, script, descriptor, created_at, link) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(
        last.seq,
        'spare',
        'btc',
        ATTACKER_PUBKEY,
        last.key_id,
        ATTACKER,
        'mainnet',
        'p2wpkh',
        `wpkh(${ATTACKER_PUBKEY})`,
        last.created_at,
        last.link,
      );
    });
    // 0.1 BTC to the exchange, 0.89 BTC to the attacker's address dressed as change
    const script = bitcoin.address.toOutputScript(btcAddress, network);
    const prev = new bitcoin.Transaction();
    prev.version = 2;
    prev.addInput(new Uint8Array(32).fill(0xaa), 0);
    prev.addOutput(script, 100_000_000n);
    const psbt = new bitcoin.Psbt({ network });
    psbt.addInput({
      hash: prev.getId(),
      index: 0,
      witnessUtxo: { script, value: 100_000_000n },
      nonWitnessUtxo: prev.toBuffer(),
    });
    psbt.addOutput({ address: EXCHANGE, value: 10_000_000n });
    psbt.addOutput({ address: ATTACKER, value: 89_990_000n });
    writeFileSync(file('drain.psbt'), psbt.toBase64());
    const sign = await cli.runAsync(['sign', file('drain.psbt'), '--out', file('drain.out'), '--json'], {
      COLDSIGN_HOME: home,
    });
    expect(sign.code, sign.stdout).toBe(6);
    expect(errorCode(sign.stdout)).toBe('AUDIT_TAMPERED');
    expect(existsSync(file('drain.out'))).toBe(false);
  });

  it('deleting the velocity history does not reset the limit (exit 6, nothing written)', async ({
    expect,
  }) => {
    const home = copyOf('velocity-attack');
    edit(home, (db) => db.prepare('DELETE FROM velocity').run());
    const sign = await cli.runAsync(['sign', file('probe.psbt'), '--out', file('velocity.out'), '--json'], {
      COLDSIGN_HOME: home,
    });
    expect(sign.code, sign.stdout).toBe(6);
    expect(errorCode(sign.stdout)).toBe('AUDIT_TAMPERED');
    expect(existsSync(file('velocity.out'))).toBe(false);
  });
});

type Tamper = [table: string, what: string, sql: (db: Database.Database) => void];

/** Every state table: edit, insert and delete of its oldest and newest rows. */
function tampers(): Tamper[] {
  const editOf: Record<string, string> = {
    officers:
      "public_key = substr(public_key, 1, 63) || CASE substr(public_key, 64, 1) WHEN '0' THEN '1' ELSE '0' END",
    governance: 'quorum = 1',
    keys: "address = address || 'x'",
    policies: 'document = replace(document, \'"0.6"\', \'"60"\')',
    velocity: "raw = '0'",
    approvals: "officer = 'bob'",
  };
  const cases: Tamper[] = [];
  for (const [table, change] of Object.entries(editOf)) {
    for (const end of ['oldest', 'newest'] as const) {
      const order = end === 'oldest' ? 'ASC' : 'DESC';
      const pick = `(SELECT rowid FROM ${table} ORDER BY seq ${order}, pos ${order} LIMIT 1)`;
      cases.push([
        table,
        `edit of the ${end} row`,
        (db) => db.prepare(`UPDATE ${table} SET ${change} WHERE rowid = ${pick}`).run(),
      ]);
      cases.push([
        table,
        `delete of the ${end} row`,
        (db) => db.prepare(`DELETE FROM ${table} WHERE rowid = ${pick}`).run(),
      ]);
      cases.push([
        table,
        `insert of a copy of the ${end} row`,
        (db) => {
          const columns = (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map(
            (c) => c.name,
          );
          const rest = columns.filter((c) => c !== 'pos');
          db.prepare(
            `INSERT INTO ${table} (pos, ${rest.join(', ')}) SELECT pos + 100, ${rest.join(', ')} FROM ${table} WHERE rowid = ${pick}`,
          ).run();
        },
      ]);
    }
  }
  return cases;
}

// Each case edits its own copy of the home and writes its own output path: the cases are independent.
describe.concurrent('every single-row edit, insert or delete in every state table', () => {
  it('the untouched home refuses the probe by policy (exit 4) and verifies', async ({ expect }) => {
    const home = copyOf('baseline');
    const sign = await cli.runAsync(['sign', file('probe.psbt'), '--out', file('baseline.out'), '--json'], {
      COLDSIGN_HOME: home,
    });
    expect(sign.code, sign.stdout).toBe(4);
    expect((await cli.runAsync(['audit', 'verify', '--json'], { COLDSIGN_HOME: home })).code).toBe(0);
  });

  it.for(tampers())(
    '%s: %s is detected (exit 6) or changes no decision, and audit verify names it',
    async ([table, what, sql], { expect }) => {
      const name = `${table}-${what.replace(/\W+/g, '-')}`;
      const out = file(`${name}.out`);
      const home = copyOf(name);
      const before = new Database(join(home, 'coldsign.db'), { readonly: true });
      const count = (before.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
      before.close();
      expect(count, `the ${table} table has rows to tamper with`).toBeGreaterThan(0);
      edit(home, sql);
      const verify = await cli.runAsync(['audit', 'verify', '--json'], { COLDSIGN_HOME: home });
      expect(verify.code, verify.stdout).toBe(6);
      const sign = await cli.runAsync(['sign', file('probe.psbt'), '--out', out, '--json'], {
        COLDSIGN_HOME: home,
      });
      expect([4, 6], sign.stdout).toContain(sign.code);
      if (sign.code === 4) expect(errorCode(sign.stdout)).toMatch(/POLICY_DENIED|APPROVALS_MISSING/);
      else
        expect(errorCode(sign.stdout)).toMatch(/AUDIT_TAMPERED|STATE_INCONSISTENT|POLICY_SIGNATURE_INVALID/);
      expect(existsSync(out)).toBe(false);
    },
  );
});
