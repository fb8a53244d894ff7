/**
 * One transaction signed in parts, across requests (the coordinator controls what each request claims):
 *
 * 1. Our own coin disguised as a foreign input (witness_utxo only, a foreign script): each request signs one of
 *    our two 1 BTC inputs and calls the other foreign, the only output is 1 BTC of change to our key. Each
 *    request alone looks like "nothing leaves"; the two SIGHASH_ALL signatures together pay 1 BTC as fee.
 *    Refused: with an input's amount unproven the change is not credited (value at risk, BIP-174 roles).
 * 2. A SIGHASH_NONE signature followed by a SIGHASH_ALL re-sign of the same unsigned transaction: the NONE
 *    signature is not bound to that transaction (BIP-143), so the re-sign must not replace what it put at risk.
 *    Refused: such signatures are counted per request, never merged into the transaction's record.
 *
 * The attacks are shown real with a throwaway in-memory key and @scure/btc-signer, then refused by coldsign.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { btc, buildPsbt, foreignScript, previousTx } from '../../btc/support/fixtures.js';
import {
  createAppliance,
  OPTS,
  rewriteOutputs,
  signAsAsked,
  throwaway,
  verifiesIn,
  type Appliance,
} from './support.js';

const BTC = 100_000_000n;
const EXCHANGE = btc.p2wpkh(throwaway(260).pub);
const ATTACKER = throwaway(231);
const ALL = 0x01;
const NONE = 0x02;

let app: Appliance;

beforeAll(() => {
  app = createAppliance(['vault-c', 'vault-n'], () => ({
    version: 1,
    rules: [
      {
        id: 'cold',
        chain: 'btc',
        network: 'mainnet',
        keys: ['vault-c'],
        destinations: [{ address: EXCHANGE.address!, label: 'Exchange' }],
        maxAmount: '0.1',
        velocity: { window: '24h', maxAmount: '0.2' },
      },
      {
        id: 'none-allowed',
        chain: 'btc',
        network: 'mainnet',
        keys: ['vault-n'],
        destinations: [{ address: EXCHANGE.address!, label: 'Exchange' }],
        sighashTypes: ['ALL', 'NONE'],
        maxAmount: '1',
        velocity: { window: '24h', maxAmount: '1.5' },
      },
    ],
  }));
});
afterAll(() => app?.cleanup());

type Utxo = { txid: string; bytes: Uint8Array };

/** Spends both coins back to our key; `honest` is the input shown truthfully (the other one disguised). */
function disguised(pub: Uint8Array, prev: Utxo[], honest: number | 'all'): Uint8Array {
  const tx = new btc.Transaction(OPTS);
  prev.forEach((p, i) => {
    const truthful = honest === 'all' || honest === i;
    tx.addInput({
      txid: p.txid,
      index: 0,
      ...(truthful
        ? { nonWitnessUtxo: p.bytes, witnessUtxo: { script: btc.p2wpkh(pub).script, amount: BTC } }
        : { witnessUtxo: { script: foreignScript(70 + i), amount: 10_000n } }),
    });
  });
  tx.addOutput({ script: btc.p2wpkh(pub).script, amount: BTC });
  return tx.toPSBT(0);
}

describe('our own input disguised as foreign, one request per input', () => {
  it('is real: the two signatures assemble a transaction paying 1 BTC of our money as fee', () => {
    const victim = throwaway(13);
    const prev = [0, 1].map(() => previousTx(btc.p2wpkh(victim.pub).script, BTC));
    const real = btc.Transaction.fromPSBT(disguised(victim.pub, prev, 'all'), OPTS);
    for (const i of [0, 1]) {
      const sig = signAsAsked(disguised(victim.pub, prev, i), i, victim, ALL);
      const spend = { scriptCode: btc.p2pkh(victim.pub).script, amount: BTC, segwit: true };
      expect(verifiesIn(real, i, spend, sig, victim.pub)).toBe(true);
      real.updateInput(i, { partialSig: [[victim.pub, sig]] }, true);
    }
    real.finalize();
    expect(real.fee).toBe(BTC);
  });

  it('is refused: the change is counted at risk, and the review says what can leave', () => {
    const pub = app.pub['vault-c']!;
    const prev = [0, 1].map(() => previousTx(btc.p2wpkh(pub).script, BTC));
    expect(app.sign(disguised(pub, prev, 'all'), 'honest').code).toBe(4);
    for (const i of [0, 1]) {
      const review = app.inspect(disguised(pub, prev, i), `look-${i}`).report as {
        summary: { valueAtRisk?: string };
        review: { headline: { text: string } };
      };
      expect(review.summary.valueAtRisk).toBe('1');
      expect(review.review.headline.text).toContain('up to 1 BTC can leave our keys');
      const refused = app.sign(disguised(pub, prev, i), `part-${i}`);
      expect(refused.code).toBe(4);
      expect(refused.message).toContain('1 BTC within 24h');
    }
    expect(app.signatureCount()).toBe(0);
  });
});

const INPUT = 80_000_000n;
const PAID = 1_000_000n;
const FEE = 10_000n;

function payment(pub: Uint8Array, sighashType?: number): Uint8Array {
  return buildPsbt(
    [{ kind: 'p2wpkh', pubkeys: [pub], amount: INPUT, ...(sighashType ? { sighashType } : {}) }],
    [
      { script: EXCHANGE.script, amount: PAID },
      { script: btc.p2wpkh(pub).script, amount: INPUT - PAID - FEE },
    ],
  );
}

/** The same unsigned transaction with the input's sighash field set to ALL (what the coordinator re-sends). */
function asAll(psbt: Uint8Array): Uint8Array {
  const tx = btc.Transaction.fromPSBT(psbt, OPTS);
  tx.updateInput(0, { sighashType: ALL }, true);
  const out = tx.toPSBT(0);
  expect(btc.Transaction.fromPSBT(out, OPTS).id).toBe(tx.id);
  return out;
}

function onlySignature(name: string): Uint8Array {
  const b64 = readFileSync(app.file(`${name}.signed`), 'utf8').trim();
  const sigs = btc.Transaction.fromPSBT(Buffer.from(b64, 'base64'), OPTS).getInput(0).partialSig!;
  expect(sigs).toHaveLength(1);
  return sigs[0]![1];
}

describe('a SIGHASH_NONE signature, then a SIGHASH_ALL re-sign of the same transaction', () => {
  it('is real: the NONE signature still moves the whole input to the attacker after the re-sign', () => {
    const pub = app.pub['vault-n']!;
    const none = payment(pub, NONE);
    expect(app.sign(none, 'none-0').code).toBe(0);
    const sig = onlySignature('none-0');
    expect(sig[sig.length - 1]).toBe(NONE);
    const rewritten = rewriteOutputs(none, [
      { script: btc.p2wpkh(ATTACKER.pub).script, amount: INPUT - FEE },
    ]);
    const spend = { scriptCode: btc.p2pkh(pub).script, amount: INPUT, segwit: true };
    expect(verifiesIn(rewritten, 0, spend, sig, pub)).toBe(true);
    // The re-sign of the same unsigned transaction is allowed (0.8 at risk + 0.0101 is under 1.5) …
    expect(app.sign(asAll(none), 'all-0').code).toBe(0);
  });

  it('is refused: the re-sign does not erase what the NONE signature put at risk', () => {
    const pub = app.pub['vault-n']!;
    // … and a second NONE signature of 0.8 BTC would put 1.6 BTC at risk within the 1.5 BTC window.
    const second = app.sign(payment(pub, NONE), 'none-1');
    expect(second.code).toBe(4);
    expect(second.message).toContain('velocity limit');
    const counted = app
      .velocityRows()
      .filter((row) => row.rule === 'none-allowed')
      .reduce((n, row) => n + BigInt(row.raw), 0n);
    expect(counted).toBe(INPUT + PAID + FEE);
  });
});
