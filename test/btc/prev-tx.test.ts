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
    it(`reads the txid and outputs bitcoinjs-lib reads (${inputs} in, ${outputs} out, witness ${witness})`, () => {
      const tx = transaction(inputs, outputs, witness);
      expect(tx.hasWitnesses()).toBe(witness);
      const read = readPrevTx(tx.toBuffer(), pureSha256);
      expect(toHex(read.hash)).toBe(toHex(tx.getHash()));
      expect(read.outs.map((o) => [toHex(o.script), o.value])).toEqual(
        tx.outs.map((o) => [toHex(o.script), o.value]),
      );
    });
  }

  it('refuses a byte after the locktime', () => {
    const bytes = transaction(2, 2, false).toBuffer();
    expect(() => readPrevTx(Uint8Array.of(...bytes, 0), pureSha256)).toThrow(MalformedPrevTx);
  });

  it('refuses a truncated transaction at every length', () => {
    const bytes = transaction(2, 2, true).toBuffer();
    for (let n = 0; n < bytes.length; n++)
      expect(() => readPrevTx(bytes.subarray(0, n), pureSha256)).toThrow();
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
    expect(() => readPrevTx(superfluous, pureSha256)).toThrow(MalformedPrevTx);
  });

  it('refuses a non-minimal CompactSize (Core: non-canonical ReadCompactSize)', () => {
    const bytes = transaction(1, 1, false).toBuffer();
    // the input count 0x01 written as 0xfd 0x01 0x00
    const padded = Uint8Array.of(...bytes.subarray(0, 4), 0xfd, 0x01, 0x00, ...bytes.subarray(5));
    expect(() => readPrevTx(padded, pureSha256)).toThrow(/non-minimal/);
  });
});
