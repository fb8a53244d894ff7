/**
 * One outpoint signed twice under two claimed amounts (the CVE-2020-14199 class, BIP-143 + BIP-174): the
 * coordinator controls the witness_utxo amounts of a PSBT. Two of our coins of 0.05 BTC each are spent by one
 * transaction paying 0.05 BTC to an allowed destination. The first request tells the truth about coin 1 and
 * claims 0.0001 BTC for coin 2; the second the other way round. Each looks like a payment of 0.05 BTC with a
 * fee of 0.0001 BTC; the valid signature of each (the one whose claim was true) together spend both coins, and
 * 0.05 BTC of ours goes as fee.
 *
 * Shown real with bitcoinjs-lib and a throwaway in-memory key, then refused by coldsign
 * (PSBT_OUTPOINT_AMOUNT_CONFLICT): the outpoint ledger remembers the amount each outpoint was signed under.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as bitcoin from 'bitcoinjs-lib';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerIndex, outpointBucket } from '../../../store/outpoint-ledger.js';
import { copyHome } from '../../support/appliance-home.js';
import { replaceInIndexPages } from '../../support/index-pages.js';
import { createAppliance, throwaway, type Appliance, type Throwaway } from './support.js';

const network = bitcoin.networks.bitcoin;
const COIN = 5_000_000n;
const LIE = 10_000n;
const PAID = 5_000_000n;
const EXCHANGE = bitcoin.payments.p2wpkh({ pubkey: throwaway(77).pub, network });
const ALL = bitcoin.Transaction.SIGHASH_ALL;

let app: Appliance;
let ours: Uint8Array;

beforeAll(() => {
  app = createAppliance(['vault-w'], () => ({
    version: 1,
    rules: [
      {
        id: 'hot',
        chain: 'btc',
        network: 'mainnet',
        keys: ['vault-w'],
        destinations: [{ address: EXCHANGE.address!, label: 'Exchange' }],
        allowWitnessUtxoOnly: true,
        maxFee: '0.001',
        maxAmount: '0.1',
        velocity: { window: '24h', maxAmount: '10' },
      },
    ],
  }));
  ours = app.pub['vault-w']!;
});
afterAll(() => app?.cleanup());

interface Coin {
  txid: string;
  vout: number;
  script: Uint8Array;
  value: bigint;
}

let funding = 0;
/** A coin of `value` paying P2WPKH of `pub`, in a previous transaction of its own (a fresh txid each time). */
function coin(pub: Uint8Array, value = COIN): Coin {
  const prev = new bitcoin.Transaction();
  const seed = new Uint8Array(32).fill(++funding);
  prev.addInput(seed, 0);
  const script = bitcoin.payments.p2wpkh({ pubkey: pub, network }).output!;
  prev.addOutput(script, value);
  return { txid: prev.getId(), vout: 0, script, value };
}

/** The transaction spending `coins` to the exchange, with the amounts the coordinator claims for each. */
function claiming(coins: Coin[], claims: bigint[], paid = PAID, scripts?: Uint8Array[]): bitcoin.Psbt {
  const psbt = new bitcoin.Psbt({ network });
  coins.forEach((c, i) =>
    psbt.addInput({
      hash: c.txid,
      index: c.vout,
      witnessUtxo: { script: scripts?.[i] ?? c.script, value: claims[i]! },
    }),
  );
  psbt.addOutput({ script: EXCHANGE.output!, value: paid });
  return psbt;
}

const bytes = (psbt: bitcoin.Psbt): Uint8Array => psbt.toBuffer();

function signer(key: Throwaway): bitcoin.Signer {
  return { publicKey: key.pub, sign: (hash) => secp256k1.sign(hash, key.priv, { prehash: false }) };
}

function validator(pubkey: Uint8Array, hash: Uint8Array, signature: Uint8Array): boolean {
  return secp256k1.verify(signature, hash, pubkey, { prehash: false });
}

/** The partial signature of `input` in a signed PSBT (base64, as `coldsign sign` writes it). */
function partialSig(psbt: bitcoin.Psbt, input: number): { pubkey: Uint8Array; signature: Uint8Array } {
  const sigs = psbt.data.inputs[input]!.partialSig ?? [];
  expect(sigs).toHaveLength(1);
  return sigs[0]!;
}

/** Assembles the true transaction from one signature per input; bitcoinjs-lib checks each against the true amounts. */
function assemble(coins: Coin[], signatures: Array<{ pubkey: Uint8Array; signature: Uint8Array }>) {
  const real = claiming(
    coins,
    coins.map((c) => c.value),
  );
  signatures.forEach((sig, i) => real.updateInput(i, { partialSig: [sig] }));
  coins.forEach((_, i) => expect(real.validateSignaturesOfInput(i, validator)).toBe(true));
  real.finalizeAllInputs();
  return real.extractTransaction(true);
}

/** True when `sig` is valid for input `index` of the true transaction over `coins` (BIP-143, true amounts). */
function validForTrueAmount(
  coins: Coin[],
  index: number,
  sig: { pubkey: Uint8Array; signature: Uint8Array },
) {
  const unsigned = claiming(
    coins,
    coins.map((c) => c.value),
  ).data.globalMap.unsignedTx.toBuffer();
  const tx = bitcoin.Transaction.fromBuffer(unsigned);
  const { signature, hashType } = bitcoin.script.signature.decode(sig.signature);
  const scriptCode = bitcoin.payments.p2pkh({ pubkey: sig.pubkey, network }).output!;
  const digest = tx.hashForWitnessV0(index, scriptCode, coins[index]!.value, hashType);
  return secp256k1.verify(signature, digest, sig.pubkey, { prehash: false, format: 'compact' });
}

function readSigned(name: string): bitcoin.Psbt {
  return bitcoin.Psbt.fromBase64(readFileSync(app.file(`${name}.signed`), 'utf8').trim(), { network });
}

function ledgerRows(
  home = app.cli.env.COLDSIGN_HOME!,
): Array<{ outpoint: string; sats: string; script: string }> {
  const db = new Database(join(home, 'coldsign.db'), { readonly: true });
  try {
    return db.prepare('SELECT outpoint, sats, script FROM outpoints ORDER BY seq, pos').all() as Array<{
      outpoint: string;
      sats: string;
      script: string;
    }>;
  } finally {
    db.close();
  }
}

const errorOf = (stdout: string) =>
  (JSON.parse(stdout) as { error?: { code: string; message: string } }).error;

describe('one outpoint signed under two claimed amounts', () => {
  it('is real: each request yields one valid signature, and together they burn 0.05 BTC of ours as fee', () => {
    const victim = throwaway(41);
    const coins = [coin(victim.pub), coin(victim.pub)];
    const first = claiming(coins, [COIN, LIE]);
    const second = claiming(coins, [LIE, COIN]);
    for (const psbt of [first, second]) {
      // What each request shows: 0.05 BTC paid, a fee of 0.0001 BTC.
      expect(psbt.txInputs.length).toBe(2);
      psbt.signAllInputs(signer(victim), [ALL]);
    }
    const [a0, a1, b0, b1] = [
      partialSig(first, 0),
      partialSig(first, 1),
      partialSig(second, 0),
      partialSig(second, 1),
    ];
    // Two signatures of one outpoint under two amounts (BIP-143 commits the amount): only the true one is valid.
    expect(Buffer.from(a0.signature).equals(Buffer.from(b0.signature))).toBe(false);
    expect(validForTrueAmount(coins, 0, a0)).toBe(true);
    expect(validForTrueAmount(coins, 0, b0)).toBe(false);
    expect(validForTrueAmount(coins, 1, b1)).toBe(true);
    expect(validForTrueAmount(coins, 1, a1)).toBe(false);
    const spend = assemble(coins, [a0, b1]);
    const paid = spend.outs.reduce((n, o) => n + o.value, 0n);
    expect(paid).toBe(PAID);
    expect(COIN + COIN - paid).toBe(5_000_000n);
  });

  const coins: Coin[] = [];
  it('is refused: the second request claims another amount for an outpoint already signed', () => {
    coins.push(coin(ours), coin(ours));
    const before = app.signatureCount();
    expect(app.sign(bytes(claiming(coins, [COIN, LIE])), 'first').code).toBe(0);
    // coldsign's signature of the coin told truthfully is the one valid on the real transaction
    expect(validForTrueAmount(coins, 0, partialSig(readSigned('first'), 0))).toBe(true);
    expect(ledgerRows().map((r) => [r.outpoint, r.sats])).toEqual([
      [`${coins[0]!.txid}:0`, COIN.toString()],
      [`${coins[1]!.txid}:0`, LIE.toString()],
    ]);

    const swapped = bytes(claiming(coins, [LIE, COIN]));
    const review = app.inspect(swapped, 'second-look').report as {
      policy: { allowed: boolean; reasons: Array<{ ok: boolean; message: string }> };
      review: {
        verdict: {
          refusedBy: string;
          code: string;
          title: string;
          reasons: Array<{ ok: boolean; message: string }>;
        };
      };
    };
    expect(review.policy.allowed).toBe(false);
    // The review names the ledger, not the policy, and shows the conflict first (no screen folds it away).
    expect(review.review.verdict).toMatchObject({
      refusedBy: 'outpoint-ledger',
      code: 'PSBT_OUTPOINT_AMOUNT_CONFLICT',
      title: 'REFUSED by the outpoint ledger',
    });
    expect(review.review.verdict.reasons[0]).toMatchObject({ ok: false });
    expect(review.review.verdict.reasons[0]!.message).toMatch(
      new RegExp(`^Outpoint ${coins[0]!.txid}:0 was signed`),
    );
    expect(review.policy.reasons.filter((r) => !r.ok).map((r) => r.message)).toContain(
      `Outpoint ${coins[0]!.txid}:0 was signed for 0.05 BTC and this request claims 0.0001 BTC; a second signature under another claim could be the valid one, so nothing is signed.`,
    );
    const refused = app.sign(swapped, 'second');
    expect(refused).toMatchObject({ code: 4, error: 'PSBT_OUTPOINT_AMOUNT_CONFLICT' });
    expect(refused.message).toContain(`Outpoint ${coins[0]!.txid}:0 was signed for 0.05 BTC`);
    expect(refused.message).toContain('claims 0.0001 BTC');
    expect(app.signatureCount()).toBe(before + 2);
    expect(ledgerRows()).toHaveLength(2);
  });

  it('a re-sign under the same claims stays allowed: a second attempt, and a fee bump of the same coins', () => {
    expect(app.sign(bytes(claiming(coins, [COIN, LIE])), 'again').code).toBe(0);
    expect(app.sign(bytes(claiming(coins, [COIN, LIE], PAID - 5_000n)), 'bumped').code).toBe(0);
    const rows = ledgerRows().filter((r) => r.outpoint === `${coins[0]!.txid}:0`);
    expect(rows.map((r) => r.sats)).toEqual([COIN, COIN, COIN].map(String));
  });

  it('another scriptPubKey for a signed outpoint is refused too', () => {
    const nested = bitcoin.payments.p2sh({
      redeem: bitcoin.payments.p2wpkh({ pubkey: ours, network }),
      network,
    });
    const psbt = claiming([coins[0]!], [COIN], PAID - 10_000n, [nested.output!]);
    const refused = app.sign(bytes(psbt), 'other-script');
    expect(refused).toMatchObject({ code: 4, error: 'PSBT_OUTPOINT_AMOUNT_CONFLICT' });
    expect(refused.message).toContain(`claims scriptPubKey ${Buffer.from(nested.output!).toString('hex')}`);
  });

  /**
   * A copy of the home edited by `edit` (its database) and then by `editFile` (its closed file, bytes),
   * asked to sign the lie for the first coin, and audit-verified.
   */
  function onEditedCopy(
    name: string,
    edit: (db: Database.Database) => void,
    editFile?: (file: string) => void,
  ) {
    const home = copyHome(app.cli.env.COLDSIGN_HOME!, app.file(`home-${name}`));
    const db = new Database(join(home, 'coldsign.db'));
    edit(db);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    editFile?.(join(home, 'coldsign.db'));
    writeFileSync(
      app.file(`${name}.psbt`),
      Buffer.from(bytes(claiming(coins, [LIE, COIN]))).toString('base64'),
    );
    const args = ['sign', app.file(`${name}.psbt`), '--out', app.file(`${name}.signed`), '--json'];
    const signed = app.cli.run(args, { COLDSIGN_HOME: home });
    const audit = app.cli.run(['audit', 'verify', '--json'], { COLDSIGN_HOME: home });
    return { home, signed, audit };
  }

  const OLDEST = 'seq = (SELECT MIN(seq) FROM outpoints) AND pos = 0';

  /** The copy lost one ledger row; signing on it is AUDIT_TAMPERED (message naming `what`), and audit verify fails. */
  function expectRowMissingAndRefused(
    home: string,
    signed: ReturnType<Appliance['cli']['run']>,
    audit: ReturnType<Appliance['cli']['run']>,
    what: string,
  ): void {
    expect(ledgerRows(home).length).toBe(ledgerRows().length - 1);
    expect(signed.code).toBe(6);
    expect(errorOf(signed.stdout)?.code).toBe('AUDIT_TAMPERED');
    expect(errorOf(signed.stdout)?.message).toContain(what);
    expect(audit.code).toBe(6);
    expect(audit.stdout).toContain('outpoints table');
  }

  it('survives the process: audit verify replays the ledger from the log, and a deleted row is found', () => {
    const verified = app.cli.run(['audit', 'verify', '--json']);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.json<{ ok: boolean }>().ok).toBe(true);

    // Someone with the database file deletes the oldest row of the first coin (not the newest: start-up checks that).
    const { home, signed, audit } = onEditedCopy('deleted-row', (db) =>
      db.prepare(`DELETE FROM outpoints WHERE ${OLDEST}`).run(),
    );
    expectRowMissingAndRefused(home, signed, audit, 'outpoints table');
  });

  it('the bucket link rewritten to hide a deleted row is found at start-up: the HSM pin holds the index root', () => {
    // An attacker who read the code deletes the coin's row and recomputes its bucket's stored link to match.
    const { home, signed, audit } = onEditedCopy('relinked', (db) => {
      const oldest = db.prepare(`SELECT outpoint FROM outpoints WHERE ${OLDEST}`).pluck().get() as string;
      db.prepare(`DELETE FROM outpoints WHERE ${OLDEST}`).run();
      LedgerIndex.restoreBuckets(db as never, [outpointBucket(oldest)]);
    });
    expectRowMissingAndRefused(home, signed, audit, 'outpoints table’s index');
  });

  it('an index page edited by hand, so that the index a decision reads and the table disagree, is found too', () => {
    // An attacker with the file edits the b-tree pages of the ledger's covering index, where no SQL statement
    // reaches: in the index the two coins' outpoints become others (same length, so SQLite reads the pages as
    // sound), while the table, which `audit verify` replays against the log, keeps them.
    const hidden = coins.map((c) => `${c.txid}:0`);
    const { home, signed, audit } = onEditedCopy(
      'index-page',
      () => {},
      (file) => {
        // The txid's first hex digit, changed.
        const replaced = hidden.map((outpoint) =>
          replaceInIndexPages(
            file,
            'outpoints_by_bucket',
            outpoint,
            `${outpoint[0] === '0' ? '1' : '0'}${outpoint.slice(1)}`,
          ),
        );
        // Every ledger row of the two coins was edited in the index (interior cells may hold copies too).
        hidden.forEach((outpoint, i) =>
          expect(replaced[i]).toBeGreaterThanOrEqual(
            ledgerRows().filter((r) => r.outpoint === outpoint).length,
          ),
        );
      },
    );
    // The edit is real: read through the index, the coins were never signed; read from the table, they were.
    const db = new Database(join(home, 'coldsign.db'), { readonly: true });
    try {
      const buckets = [...new Set(hidden.map(outpointBucket))];
      const read = (how: string) =>
        db
          .prepare(`SELECT outpoint FROM outpoints ${how} WHERE bucket IN (${buckets.join(',')})`)
          .pluck()
          .all() as string[];
      expect(read('INDEXED BY outpoints_by_bucket').filter((o) => hidden.includes(o))).toEqual([]);
      expect(read('NOT INDEXED').filter((o) => hidden.includes(o)).length).toBeGreaterThan(0);
    } finally {
      db.close();
    }
    expect(ledgerRows(home)).toEqual(ledgerRows());
    // The decision reads the buckets through the index: their rows no longer chain to the pinned root.
    expect(signed.code, signed.stdout).toBe(6);
    expect(errorOf(signed.stdout)?.code).toBe('AUDIT_TAMPERED');
    expect(errorOf(signed.stdout)?.message).toMatch(
      /^The outpoints table index outpoints_by_bucket disagrees with the table’s own rows in bucket \d+ \(the database file was edited outside SQLite/,
    );
    expect(existsSync(app.file('index-page.signed'))).toBe(false);
    // audit verify reads the log and the table, which are intact: the operator learns from the refusal what differs.
    expect(audit.code, audit.stdout).toBe(0);
    // The documented remedy: the index rebuilt from the sound table, the ledger refuses the lie again.
    const repair = new Database(join(home, 'coldsign.db'));
    repair.exec('REINDEX outpoints_by_bucket');
    repair.close();
    const again = app.cli.run(
      ['sign', app.file('index-page.psbt'), '--out', app.file('index-page.signed'), '--json'],
      { COLDSIGN_HOME: home },
    );
    expect(again.code, again.stdout).toBe(4);
    expect(errorOf(again.stdout)?.code).toBe('PSBT_OUTPOINT_AMOUNT_CONFLICT');
    expect(existsSync(app.file('index-page.signed'))).toBe(false);
  });
});

describe('requests that cannot be signed leave the ledger as it was', () => {
  it('a batch claiming two amounts for one outpoint is refused whole, nothing signed', () => {
    const shared = coin(ours);
    const rows = ledgerRows().length;
    const before = app.signatureCount();
    writeFileSync(
      app.file('batch-1.psbt'),
      Buffer.from(bytes(claiming([shared], [COIN], PAID - 10_000n))).toString('base64'),
    );
    writeFileSync(
      app.file('batch-2.psbt'),
      Buffer.from(bytes(claiming([shared], [COIN - 1_000_000n], COIN - 1_005_000n))).toString('base64'),
    );
    // Each request alone is one the policy allows.
    for (const name of ['batch-1', 'batch-2']) {
      const alone = readFileSync(app.file(`${name}.psbt`), 'utf8');
      const review = app.inspect(Buffer.from(alone, 'base64'), `${name}-alone`).report as {
        policy: { allowed: boolean };
      };
      expect(review.policy.allowed).toBe(true);
    }
    mkdirSync(app.file('batch-out'));
    const batch = app.cli.run([
      'sign',
      app.file('batch-1.psbt'),
      app.file('batch-2.psbt'),
      '--out',
      app.file('batch-out'),
      '--json',
    ]);
    expect(batch.code).toBe(4);
    expect(errorOf(batch.stdout)).toMatchObject({ code: 'PSBT_OUTPOINT_AMOUNT_CONFLICT' });
    expect(errorOf(batch.stdout)?.message).toContain(`Outpoint ${shared.txid}:0 was signed for 0.05 BTC`);
    expect(app.signatureCount()).toBe(before);
    expect(ledgerRows()).toHaveLength(rows);
  });

  it('two inputs spending one outpoint, or a truncated request, are refused as input (exit 3)', () => {
    const [first, second] = [coin(ours), coin(ours)];
    const rows = ledgerRows().length;
    const psbt = Buffer.from(bytes(claiming([first, second], [COIN, LIE])));
    // The second input made to spend the first one's outpoint, under the other claim.
    const hash = (c: Coin) => Buffer.from(c.txid, 'hex').reverse();
    const [hash1, hash2] = [hash(first), hash(second)];
    const at = psbt.indexOf(hash2);
    expect(at).toBeGreaterThan(0);
    hash1.copy(psbt, at);
    const duplicate = app.sign(psbt, 'duplicate-input');
    expect(duplicate.code).toBe(3);
    expect(duplicate.error).toMatch(/^PSBT_/);
    const truncated = app.sign(bytes(claiming([first], [COIN])).subarray(0, 60), 'truncated');
    expect(truncated.code).toBe(3);
    expect(truncated.error).toMatch(/^PSBT_/);
    expect(ledgerRows()).toHaveLength(rows);
  });
});
