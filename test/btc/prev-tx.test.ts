/**
 * chains/btc/prev-tx.ts: a non_witness_utxo's txid and outputs, checked against bitcoinjs-lib's Transaction (an
 * independent reader) on transactions with and without witnesses, and refusals of malformed serializations.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Transaction } from 'bitcoinjs-lib';
import { pureSha256 } from '../../core/hasher.js';
import { toHex } from '../../core/bytes.js';
import { MalformedPrevTx, readPrevTx } from '../../chains/btc/prev-tx.js';

function transaction(inputs: number, outputs: number, witness: boolean): Transaction {
  const tx = new Transaction();
  tx.version = 2;
  tx.locktime = 700_000;
  for (let i = 0; i < inputs; i++) {
    tx.addInput(
      new Uint8Array(randomBytes(32)),
      i,
      0xfffffffd,
      new Uint8Array(randomBytes(i % 3 === 0 ? 0 : 107)),
    );
    if (witness && i % 2 === 0)
      tx.setWitness(i, [new Uint8Array(randomBytes(72)), new Uint8Array(randomBytes(33))]);
  }
  for (let o = 0; o < outputs; o++)
    tx.addOutput(new Uint8Array(randomBytes(o % 2 ? 22 : 34)), BigInt(1000 * (o + 1)));
  return tx;
}

describe('readPrevTx', () => {
  for (const [inputs, outputs, witness] of [
    [1, 1, false],
    [3, 5, false],
    [1, 1, true],
    [4, 300, true],
  ] as const) {
    it(`reads the txid and each output bitcoinjs-lib reads (${inputs} in, ${outputs} out, witness ${witness})`, () => {
      const tx = transaction(inputs, outputs, witness);
      expect(tx.hasWitnesses()).toBe(witness);
      const bytes = tx.toBuffer();
      const indices = outputs <= 5 ? [...Array(outputs).keys()] : [0, 1, outputs >> 1, outputs - 1];
      for (const index of indices) {
        const read = readPrevTx(bytes, pureSha256, index);
        expect(toHex(read.hash)).toBe(toHex(tx.getHash()));
        expect(read.outputCount).toBe(outputs);
        expect([toHex(read.spent!.script), read.spent!.value]).toEqual([
          toHex(tx.outs[index]!.script),
          tx.outs[index]!.value,
        ]);
      }
      // an index past the last output: the txid is still read, there is no spent output
      const past = readPrevTx(bytes, pureSha256, outputs);
      expect(toHex(past.hash)).toBe(toHex(tx.getHash()));
      expect(past.spent).toBeUndefined();
    });
  }

  it('refuses a byte after the locktime', () => {
    const bytes = transaction(2, 2, false).toBuffer();
    expect(() => readPrevTx(Uint8Array.of(...bytes, 0), pureSha256, 0)).toThrow(MalformedPrevTx);
  });

  it('refuses a truncated transaction at every length', () => {
    const bytes = transaction(2, 2, true).toBuffer();
    for (let n = 0; n < bytes.length; n++)
      expect(() => readPrevTx(bytes.subarray(0, n), pureSha256, 1)).toThrow();
  });

  it('refuses the witness serialization with only empty witnesses (BIP-144)', () => {
    const bytes = transaction(1, 1, false).toBuffer();
    // version ‖ marker 0x00 flag 0x01 ‖ body ‖ one empty witness stack ‖ locktime
    const superfluous = Uint8Array.of(
      ...bytes.subarray(0, 4),
      0x00,
      0x01,
      ...bytes.subarray(4, bytes.length - 4),
      0x00,
      ...bytes.subarray(bytes.length - 4),
    );
    expect(() => Transaction.fromBuffer(superfluous)).toThrow(/superfluous/);
    expect(() => readPrevTx(superfluous, pureSha256, 0)).toThrow(MalformedPrevTx);
  });

  it('refuses a non-minimal CompactSize (Core: non-canonical ReadCompactSize)', () => {
    const bytes = transaction(1, 1, false).toBuffer();
    // the input count 0x01 written as 0xfd 0x01 0x00
    const padded = Uint8Array.of(...bytes.subarray(0, 4), 0xfd, 0x01, 0x00, ...bytes.subarray(5));
    expect(() => readPrevTx(padded, pureSha256, 0)).toThrow(/non-minimal/);
  });

  it('refuses a transaction without inputs, which bitcoinjs-lib reads but consensus and Core refuse', () => {
    // version 2 ‖ 0 inputs ‖ 2 outputs ‖ locktime: the byte after the 0x00 is not the BIP-144 flag 0x01
    const output = (sats: number) => [...new Uint8Array(new BigUint64Array([BigInt(sats)]).buffer), 1, 0x51];
    const bytes = Uint8Array.of(2, 0, 0, 0, 0x00, 0x02, ...output(5000), ...output(7000), 0, 0, 0, 0);
    const read = Transaction.fromBuffer(Buffer.from(bytes));
    expect([read.ins.length, read.outs.length]).toEqual([0, 2]);
    expect(() => readPrevTx(bytes, pureSha256, 0)).toThrow(/no inputs/);
  });

  it('keeps only the spent output of a transaction with many outputs', () => {
    const tx = transaction(1, 2000, false);
    const read = readPrevTx(tx.toBuffer(), pureSha256, 1999);
    expect(Object.keys(read).sort()).toEqual(['hash', 'outputCount', 'spent']);
    expect(read.outputCount).toBe(2000);
    expect(read.spent!.value).toBe(tx.outs[1999]!.value);
  });

  it('accepts a transaction of block weight and refuses one weight unit more (BIP-141), judged by bitcoinjs-lib', () => {
    // one input, one output whose script sets the size; for witness, one witness item sets the weight
    const sized = (scriptBytes: number, witnessBytes: number): Transaction => {
      const tx = new Transaction();
      tx.addInput(new Uint8Array(32).fill(7), 0);
      tx.addOutput(new Uint8Array(scriptBytes), 1000n);
      if (witnessBytes > 0) tx.setWitness(0, [new Uint8Array(witnessBytes)]);
      return tx;
    };
    const base = sized(999_936, 0).weight();
    expect(base).toBe(4_000_000);
    const cases = [
      sized(999_936, 0),
      sized(999_937, 0),
      sized(990_000, 0),
      // a witness item of w bytes adds w + 6 weight units: marker and flag, the stack's count, the item's 3-byte length
      sized(990_000, 4_000_000 - sized(990_000, 0).weight() - 6),
      sized(990_000, 4_000_000 - sized(990_000, 0).weight() - 5),
    ];
    const verdicts = cases.map((tx) => {
      try {
        readPrevTx(tx.toBuffer(), pureSha256, 0);
        return 'read';
      } catch (error) {
        expect(String(error)).toMatch(/heavier than a block/);
        return 'refused';
      }
    });
    expect(cases.map((tx) => (tx.weight() <= 4_000_000 ? 'read' : 'refused'))).toEqual(verdicts);
    expect(cases.map((tx) => tx.weight() - 4_000_000)).toEqual([0, 4, expect.any(Number), 0, 1]);
    expect(verdicts).toEqual(['read', 'refused', 'read', 'read', 'refused']);
  });

  it('refuses bytes larger than a block before reading them', () => {
    const bytes = new Uint8Array(4_000_001);
    expect(() => readPrevTx(bytes, pureSha256, 0)).toThrow(/larger than a block/);
  });
});
