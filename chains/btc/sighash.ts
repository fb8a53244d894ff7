/**
 * Linear-time BIP-143 digests (pure). bitcoinjs-lib's Transaction.hashForWitnessV0 rehashes every prevout,
 * sequence and output for each input, which makes signing n inputs O(n²). BIP-143 says these three hashes
 * are shared by all inputs under SIGHASH_ALL ("hashPrevouts ... can be cached"); this computes them once
 * per transaction. bitcoinjs-lib's own digest code stays untouched: the signer's cross-check relies on it.
 */
import { Transaction } from 'bitcoinjs-lib';
import { hash256With, pureSha256, type Sha256 } from '../../core/hasher.js';

interface Midstate {
  hashPrevouts: Uint8Array;
  hashSequence: Uint8Array;
  hashOutputs: Uint8Array;
}

class Writer {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  offset = 0;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }
  slice(b: Uint8Array): void {
    this.bytes.set(b, this.offset);
    this.offset += b.length;
  }
  u32(n: number): void {
    this.view.setUint32(this.offset, n >>> 0, true);
    this.offset += 4;
  }
  i32(n: number): void {
    this.view.setInt32(this.offset, n, true);
    this.offset += 4;
  }
  u64(n: bigint): void {
    this.view.setBigUint64(this.offset, n, true);
    this.offset += 8;
  }
  varint(n: number): void {
    if (n < 0xfd) this.bytes[this.offset++] = n;
    else if (n <= 0xffff) {
      this.bytes[this.offset++] = 0xfd;
      this.view.setUint16(this.offset, n, true);
      this.offset += 2;
    } else {
      this.bytes[this.offset++] = 0xfe;
      this.u32(n);
    }
  }
  done(): Uint8Array {
    return this.bytes.subarray(0, this.offset);
  }
}

function varintSize(n: number): number {
  return n < 0xfd ? 1 : n <= 0xffff ? 3 : 5;
}

/** BIP-143 items 2, 3 and 8 for SIGHASH_ALL. */
function midstate(tx: Transaction, sha256: Sha256): Midstate {
  const prevouts = new Writer(36 * tx.ins.length);
  const sequences = new Writer(4 * tx.ins.length);
  for (const input of tx.ins) {
    prevouts.slice(input.hash);
    prevouts.u32(input.index);
    sequences.u32(input.sequence);
  }
  const outputs = new Writer(
    tx.outs.reduce((n, o) => n + 8 + varintSize(o.script.length) + o.script.length, 0),
  );
  for (const output of tx.outs) {
    outputs.u64(output.value);
    outputs.varint(output.script.length);
    outputs.slice(output.script);
  }
  return {
    hashPrevouts: hash256With(sha256, prevouts.done()),
    hashSequence: hash256With(sha256, sequences.done()),
    hashOutputs: hash256With(sha256, outputs.done()),
  };
}

/** The BIP-143 digest of input `index` under SIGHASH_ALL, from a precomputed midstate. */
function bip143All(
  tx: Transaction,
  m: Midstate,
  index: number,
  scriptCode: Uint8Array,
  value: bigint,
  sha256: Sha256,
): Uint8Array {
  const input = tx.ins[index]!;
  const w = new Writer(
    4 + 32 + 32 + 36 + varintSize(scriptCode.length) + scriptCode.length + 8 + 4 + 32 + 4 + 4,
  );
  w.i32(tx.version);
  w.slice(m.hashPrevouts);
  w.slice(m.hashSequence);
  w.slice(input.hash);
  w.u32(input.index);
  w.varint(scriptCode.length);
  w.slice(scriptCode);
  w.u64(value);
  w.u32(input.sequence);
  w.slice(m.hashOutputs);
  w.u32(tx.locktime);
  w.u32(Transaction.SIGHASH_ALL);
  return hash256With(sha256, w.done());
}

const midstates = new WeakMap<Transaction, Midstate>();

function midstateOf(tx: Transaction, sha256: Sha256): Midstate {
  let m = midstates.get(tx);
  if (!m) {
    m = midstate(tx, sha256);
    midstates.set(tx, m);
  }
  return m;
}

/**
 * The digest an input signs: BIP-143 for segregated witness v0 (shared hashes cached under SIGHASH_ALL),
 * the legacy algorithm (bitcoinjs-lib hashForSignature) otherwise. `tx` must not change afterwards.
 * `sha256` (core/hasher.ts) computes the linear BIP-143 digests; bitcoinjs-lib's paths use its own.
 */
export function sighashFor(
  tx: Transaction,
  index: number,
  scriptCode: Uint8Array,
  value: bigint,
  hashType: number,
  segwit: boolean,
  sha256: Sha256 = pureSha256,
): Uint8Array {
  if (!segwit) return tx.hashForSignature(index, scriptCode, hashType);
  if (hashType !== Transaction.SIGHASH_ALL) return tx.hashForWitnessV0(index, scriptCode, value, hashType);
  return bip143All(tx, midstateOf(tx, sha256), index, scriptCode, value, sha256);
}
