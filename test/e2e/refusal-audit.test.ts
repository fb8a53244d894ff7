/**
 * Refusals the policy makes while a PSBT is read (PSBT_SIGHASH_REFUSED, PSBT_WALLET_UNREGISTERED) are
 * recorded in the audit log like every other refusal ("request.refused" with code and reason); malformed
 * input is not a decision and leaves no entry. A successful sign writes the HSM pin three times (begin,
 * the open checkpoint of "signing.started", the closing checkpoint). Real CLI, SoftHSM2 and SQLite.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApplianceSession } from '../../appliance/session.js';
import { AnchorPinStore } from '../../store/audit-hsm.js';
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
    expect(entries('audit.discarded')).toHaveLength(0);
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

  it("every review begins its audit ahead, the app's too: unusable input writes the pin open and closed, records nothing", async () => {
    const session = new ApplianceSession(home());
    try {
      await session.unlock(app.cli.env.COLDSIGN_PIN!);
      const before = anchorSeq();
      const refused = entries('request.refused').length;
      await expect(
        session.review([{ name: 'garbage.psbt', bytes: new TextEncoder().encode('cHNidP8BAAAA') }]),
      ).rejects.toMatchObject({ exitCode: 3 });
      expect(anchorSeq()).toBe(before + 2);
      expect(entries('request.refused')).toHaveLength(refused);
      expect((await session.unlockStatus()).auditWarning ?? '').not.toMatch(/could not be closed/);
    } finally {
      await session.close();
    }
    expect(app.cli.run(['audit', 'verify']).code).toBe(0);
  });

  it('a pin that an unfinished review cannot close is an audit warning, given once (HSM write failure injected: SoftHSM2 cannot be made to fail one write)', async () => {
    const session = new ApplianceSession(home());
    // The review's begin writes the pin (passed through); its close, the next write, fails.
    const write = AnchorPinStore.prototype.write;
    let writes = 0;
    const failing = vi.spyOn(AnchorPinStore.prototype, 'write').mockImplementation(function (
      this: AnchorPinStore,
      value: Uint8Array,
    ) {
      writes += 1;
      return writes === 2 ? Promise.reject(new Error('token write failed')) : write.call(this, value);
    });
    try {
      await session.unlock(app.cli.env.COLDSIGN_PIN!);
      const before = anchorSeq();
      // The review's own refusal is what the caller gets, not the failed close.
      await expect(
        session.review([{ name: 'garbage.psbt', bytes: new TextEncoder().encode('cHNidP8BAAAA') }]),
      ).rejects.toMatchObject({ exitCode: 3 });
      expect(writes).toBe(2);
      expect(anchorSeq()).toBe(before + 1);
      expect((await session.unlockStatus()).auditWarning).toMatch(
        /audit pin opened for a review that recorded nothing could not be closed again \(token write failed\); the next unlock closes it/,
      );
      expect((await session.unlockStatus()).auditWarning ?? '').not.toMatch(/could not be closed/);
    } finally {
      failing.mockRestore();
      await session.close();
    }
    // The next start-up finds the pin open with nothing after it and closes it; the log still verifies.
    const next = app.cli.run(['keys', 'list', '--json']);
    expect(next.code, next.stderr).toBe(0);
    expect(app.cli.run(['audit', 'verify']).code).toBe(0);
  });
});
