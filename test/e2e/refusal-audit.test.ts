/**
 * Refusals the policy makes while a PSBT is read (PSBT_SIGHASH_REFUSED, PSBT_WALLET_UNREGISTERED) are
 * recorded in the audit log like every other refusal ("request.refused" with code and reason); malformed
 * input is not a decision and leaves no entry. A successful sign writes the HSM pin three times (begin,
 * the open checkpoint of "signing.started", the closing checkpoint). Real CLI, SoftHSM2 and SQLite.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { btc, buildPsbt } from '../btc/support/fixtures.js';
import { createAppliance, throwaway, type Appliance } from '../adversarial/btc/support.js';

const EXCHANGE = btc.p2wpkh(throwaway(300).pub);
const COSIGNER = throwaway(301);
const BTC = 100_000_000n;

let app: Appliance;

beforeAll(() => {
  app = createAppliance(['vault-a'], () => ({
    version: 1,
    rules: [
      {
        id: 'exchange',
        chain: 'btc',
        network: 'mainnet',
        keys: ['vault-a'],
        destinations: [{ address: EXCHANGE.address!, label: 'Exchange' }],
        maxAmount: '1',
      },
    ],
  }));
});
afterAll(() => app?.cleanup());

function home(): string {
  return app.cli.env.COLDSIGN_HOME!;
}

function entries(type: string): Array<Record<string, unknown>> {
  const db = new Database(join(home(), 'coldsign.db'), { readonly: true });
  try {
    return (
      db.prepare('SELECT payload FROM audit_log WHERE type = ? ORDER BY seq').all(type) as {
        payload: string;
      }[]
    ).map((row) => JSON.parse(row.payload) as Record<string, unknown>);
  } finally {
    db.close();
  }
}

/** The highest anchor number recorded beside the database: one more for every pin write. */
function anchorSeq(): number {
  const file = JSON.parse(readFileSync(join(home(), 'coldsign.db-anchor.json'), 'utf8')) as {
    records: Array<{ seq: number }>;
  };
  return Math.max(...file.records.map((r) => r.seq));
}

function payExchange(input: Parameters<typeof buildPsbt>[0][number]): Uint8Array {
  return buildPsbt([input], [{ script: EXCHANGE.script, amount: input.amount - 10_000n }]);
}

describe('refusals while reading a PSBT are audited', () => {
  it('PSBT_SIGHASH_REFUSED leaves a request.refused entry, nothing signed, and the home unlocks again', () => {
    const before = entries('request.refused').length;
    const result = app.sign(
      payExchange({ kind: 'p2wpkh', pubkeys: [app.pub['vault-a']!], amount: BTC / 2n, sighashType: 0x02 }),
      'sighash-none',
    );
    expect(result).toMatchObject({ code: 4, error: 'PSBT_SIGHASH_REFUSED' });
    const refused = entries('request.refused');
    expect(refused).toHaveLength(before + 1);
    expect(refused.at(-1)).toMatchObject({
      code: 'PSBT_SIGHASH_REFUSED',
      reason: result.message,
      approvals: [],
    });
    expect(refused.at(-1)!.requestId).toMatch(/^[0-9a-f]{64}$/);
    expect(app.cli.run(['audit', 'verify']).code).toBe(0);
    expect(entries('audit.recovered')).toHaveLength(0);
  });

  it('PSBT_WALLET_UNREGISTERED leaves a request.refused entry', () => {
    const before = entries('request.refused').length;
    const result = app.sign(
      buildPsbt(
        [
          { kind: 'p2wsh-multisig', m: 2, pubkeys: [app.pub['vault-a']!, COSIGNER.pub], amount: 10_000n },
          { kind: 'p2wpkh', pubkeys: [app.pub['vault-a']!], amount: BTC / 2n },
        ],
        [{ script: EXCHANGE.script, amount: BTC / 2n }],
      ),
      'unregistered',
    );
    expect(result).toMatchObject({ code: 4, error: 'PSBT_WALLET_UNREGISTERED' });
    const refused = entries('request.refused');
    expect(refused).toHaveLength(before + 1);
    expect(refused.at(-1)).toMatchObject({ code: 'PSBT_WALLET_UNREGISTERED', reason: result.message });
  });

  it('malformed input is not a decision: exit 3 and no entry', () => {
    const before = entries('request.refused').length;
    const path = join(home(), '..', 'garbage.psbt');
    writeFileSync(path, 'cHNidP8BAAAA');
    const result = app.cli.run(['sign', path, '--out', `${path}.signed`, '--json']);
    expect(result.code).toBe(3);
    expect(entries('request.refused')).toHaveLength(before);
  });

  it('a sign writes the pin three times and leaves it closed', () => {
    const before = anchorSeq();
    const result = app.sign(
      payExchange({ kind: 'p2wpkh', pubkeys: [app.pub['vault-a']!], amount: BTC / 2n }),
      'good',
    );
    expect(result.code, result.message).toBe(0);
    expect(anchorSeq()).toBe(before + 3);
    expect(app.cli.run(['audit', 'verify']).code).toBe(0);
  });
});
