/**
 * A non_witness_utxo (BIP-174 PSBT_IN_NON_WITNESS_UTXO) read for what the signer needs of it: its txid, its
 * number of outputs and the one output the input spends. Bitcoin's transaction serialization (BIP-144 when it
 * carries witnesses), strictly: at least one input, minimal CompactSizes and nothing after the locktime, as Core's
 * deserializer requires, and no heavier than a block (BIP-141). One linear pass over the bytes that keeps nothing
 * but the spent output, so a hostile previous transaction of a million outputs costs a scan, not a million
 * objects: bitcoinjs-lib's Transaction.fromBuffer builds a whole transaction per input (~40 µs each, most of a
 * 500-input request's parse).
 */
import { concatBytes } from '../../core/bytes.js';
import { hash256With, type Sha256 } from '../../core/hasher.js';
import { Reader, Truncated } from './maps.js';

export interface PrevTxOutput {
  script: Uint8Array;
  /** Satoshis, as the 8-byte little-endian signed amount reads (BIP-174 and bitcoinjs-lib alike). */
  value: bigint;
}

export interface PrevTx {
  /** Double SHA-256 of the non-witness serialization, internal byte order (what an input's prevout names). */
  hash: Uint8Array;
  /** How many outputs it has; named when the input spends an index beyond them. */
  outputCount: number;
  /** The output at the index the input spends, or undefined when the transaction has no such output. */
  spent: PrevTxOutput | undefined;
}

/** BIP-141: a block holds at most 4,000,000 weight units, so no transaction weighs more. */
const MAX_BLOCK_WEIGHT = 4_000_000;

/** Thrown for bytes that are not one well-formed transaction; the caller names the input. */
export class MalformedPrevTx extends Error {}

function amountOf(reader: Reader): bigint {
  const low = reader.uint32();
  return BigInt.asIntN(64, (BigInt(reader.uint32()) << 32n) | BigInt(low));
}

/** `spentIndex` is the output index the spending input's prevout names (BIP-174: only that output is used). */
export function readPrevTx(bytes: Uint8Array, sha256: Sha256, spentIndex: number): PrevTx {
  // weight ≥ size (BIP-141): refused before the scan
  if (bytes.length > MAX_BLOCK_WEIGHT) throw new MalformedPrevTx('larger than a block can hold');
  const reader = new Reader(bytes);
  try {
    reader.skip(4); // version
    // BIP-144: marker 0x00 and flag 0x01 after the version announce witnesses (bitcoinjs-lib reads the same).
    const segwit = bytes[4] === 0x00 && bytes[5] === 0x01;
    if (segwit) reader.skip(2);
    const bodyStart = reader.offset;
    const inputCount = reader.compactSize();
    // Consensus refuses a transaction without inputs (bad-txns-vin-empty): no output of one can be spent.
    if (inputCount === 0) throw new MalformedPrevTx('no inputs');
    for (let i = 0; i < inputCount; i++) {
      reader.skip(36); // prevout
      reader.skip(reader.compactSize()); // scriptSig
      reader.skip(4); // sequence
    }
    const outputCount = reader.compactSize();
    let spent: PrevTxOutput | undefined;
    for (let i = 0; i < outputCount; i++) {
      if (i !== spentIndex) {
        reader.skip(8); // amount
        reader.skip(reader.compactSize()); // scriptPubKey
        continue;
      }
      const value = amountOf(reader);
      spent = { value, script: reader.take(reader.compactSize()) };
    }
    const bodyEnd = reader.offset;
    if (segwit) {
      let items = 0;
      for (let i = 0; i < inputCount; i++) {
        const count = reader.compactSize();
        items += count;
        for (let j = 0; j < count; j++) reader.skip(reader.compactSize());
      }
      // BIP-144: a transaction whose witnesses are all empty must use the non-witness serialization.
      if (items === 0) throw new MalformedPrevTx('superfluous witness data');
    }
    reader.skip(4); // locktime
    if (reader.remaining !== 0) throw new MalformedPrevTx('unexpected data after the locktime');
    // BIP-141 weight: 3 × the size without witnesses + the whole size; heavier cannot be in any block.
    const strippedSize = segwit ? 8 + bodyEnd - bodyStart : bytes.length;
    if (3 * strippedSize + bytes.length > MAX_BLOCK_WEIGHT)
      throw new MalformedPrevTx('heavier than a block can hold');
    // The txid commits to the serialization without marker, flag and witnesses (BIP-144).
    const stripped = segwit
      ? concatBytes(
          bytes.subarray(0, 4),
          bytes.subarray(bodyStart, bodyEnd),
          bytes.subarray(bytes.length - 4),
        )
      : bytes;
    return { hash: hash256With(sha256, stripped), outputCount, spent };
  } catch (error) {
    if (error instanceof Truncated) throw new MalformedPrevTx('truncated');
    throw error;
  }
}
