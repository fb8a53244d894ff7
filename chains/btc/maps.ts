/**
 * Strict BIP-174 framing (pure): the key-value maps of a PSBT v0, read without interpretation so that
 * every structural fault gets its own code, and written back byte for byte.
 */
import { makeError } from '../../core/errors.js';
import { PSBT_MAGIC } from './encoding.js';
import { toHex } from '../../core/bytes.js';

export interface KeyValue {
  /** <keytype><keydata> */
  key: Uint8Array;
  value: Uint8Array;
}

export interface PsbtMaps {
  global: KeyValue[];
  inputs: KeyValue[][];
  outputs: KeyValue[][];
}

/** Shape of the unsigned transaction, as far as framing needs it. */
export interface UnsignedTxShape {
  inputCount: number;
  outputCount: number;
}

export class Truncated extends Error {}

export class Reader {
  offset = 0;
  constructor(readonly bytes: Uint8Array) {}

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  take(n: number): Uint8Array {
    if (n > this.remaining) throw new Truncated();
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** Moves past `n` bytes without a view of them. */
  skip(n: number): void {
    if (n > this.remaining) throw new Truncated();
    this.offset += n;
  }

  byte(): number {
    return this.take(1)[0]!;
  }

  uint32(): number {
    const b = this.take(4);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }

  /** Bitcoin CompactSize; BIP-174 requires minimal encodings (Core rejects non-canonical sizes). */
  compactSize(): number {
    const first = this.byte();
    let value: number;
    let min: number;
    if (first < 0xfd) return first;
    if (first === 0xfd) {
      const b = this.take(2);
      value = b[0]! | (b[1]! << 8);
      min = 0xfd;
    } else if (first === 0xfe) {
      value = this.uint32();
      min = 0x10000;
    } else {
      const lo = this.uint32();
      const hi = this.uint32();
      if (hi !== 0)
        throw makeError('PSBT_INVALID', 'The PSBT declares a length larger than any input can hold.');
      value = lo;
      min = 0x100000000;
    }
    if (value < min) throw makeError('PSBT_INVALID', 'The PSBT uses a non-minimal CompactSize encoding.');
    return value;
  }
}

export type Scope = 'global' | 'input' | 'output';

/** One map: records until the 0x00 separator (BIP-174 <map> := <keypair>* 0x00). Keys must be unique. */
export function readMap(reader: Reader, scope: Scope, index: number): KeyValue[] {
  const records: KeyValue[] = [];
  const seen = new Set<string>();
  for (;;) {
    const keyLength = reader.compactSize();
    if (keyLength === 0) return records;
    const key = reader.take(keyLength);
    const valueLength = reader.compactSize();
    const value = reader.take(valueLength);
    // BIP-174: <keytype> is a CompactSize and must be minimally encoded.
    new Reader(key).compactSize();
    const id = toHex(key);
    if (seen.has(id)) {
      const where = scope === 'global' ? 'global map' : `${scope} ${index}`;
      throw makeError('PSBT_DUPLICATE_KEY', `The PSBT repeats the key ${id.slice(0, 16)} in its ${where}.`, {
        scope,
        index,
      });
    }
    seen.add(id);
    records.push({ key, value });
  }
}

export function keyType(record: KeyValue): number {
  const first = record.key[0];
  // A one-byte CompactSize (every type BIP-174 defines) needs no reader.
  return first !== undefined && first < 0xfd ? first : new Reader(record.key).compactSize();
}

/** BIP-174 §"Unsigned Transaction": network serialization without witnesses, empty scriptSigs. */
function readUnsignedTx(value: Uint8Array): UnsignedTxShape {
  const reader = new Reader(value);
  try {
    reader.take(4); // version
    const inputCount = reader.compactSize();
    for (let i = 0; i < inputCount; i++) {
      reader.take(36); // prevout
      if (reader.compactSize() !== 0) {
        throw makeError(
          'PSBT_INVALID',
          `The unsigned transaction has a scriptSig in input ${i}; BIP-174 requires it empty.`,
        );
      }
      reader.take(4); // sequence
    }
    const outputCount = reader.compactSize();
    for (let i = 0; i < outputCount; i++) {
      reader.take(8);
      reader.take(reader.compactSize());
    }
    reader.take(4); // locktime
    if (reader.remaining !== 0) {
      throw makeError(
        'PSBT_INVALID',
        'The unsigned transaction is not in the non-witness serialization BIP-174 requires.',
      );
    }
    return { inputCount, outputCount };
  } catch (error) {
    if (error instanceof Truncated)
      throw makeError('PSBT_INVALID', 'The unsigned transaction in the PSBT is malformed.');
    throw error;
  }
}

const PSBT_GLOBAL_UNSIGNED_TX = 0x00;
const PSBT_GLOBAL_VERSION = 0xfb;
/** BIP-370 global fields (0x02–0x06) that a v0 PSBT must not carry. */
const V2_ONLY_GLOBAL = new Set([0x02, 0x03, 0x04, 0x05, 0x06]);
/** BIP-370 input fields (0x0e–0x12) excluded from v0. */
const V2_ONLY_INPUT = new Set([0x0e, 0x0f, 0x10, 0x11, 0x12]);
/** BIP-370 output fields (0x03, 0x04) excluded from v0. */
const V2_ONLY_OUTPUT = new Set([0x03, 0x04]);

/** Input types whose key carries no key data (BIP-174 per-input table). */
const INPUT_NO_KEYDATA = new Set([0x00, 0x01, 0x03, 0x04, 0x05, 0x07, 0x08, 0x09, 0x13, 0x17, 0x18]);
const OUTPUT_NO_KEYDATA = new Set([0x00, 0x01, 0x05, 0x06]);

function checkPubkeyKey(record: KeyValue, scope: Scope, index: number, what: string): void {
  const size = record.key.length - 1;
  if (size !== 33 && size !== 65) {
    throw makeError('PSBT_INVALID', `The ${what} key of ${scope} ${index} does not hold a public key.`, {
      scope,
      index,
    });
  }
}

/** BIP-174 per-input and per-output field rules that decide whether the framing is well formed. */
function checkFields(records: KeyValue[], scope: 'input' | 'output', index: number): void {
  for (const record of records) {
    const type = keyType(record);
    const excluded = scope === 'input' ? V2_ONLY_INPUT : V2_ONLY_OUTPUT;
    if (excluded.has(type)) {
      throw makeError(
        'PSBT_INVALID',
        `The ${scope} ${index} carries a BIP-370 field (type ${type}) that a version 0 PSBT must not have.`,
      );
    }
    const noKeyData = scope === 'input' ? INPUT_NO_KEYDATA : OUTPUT_NO_KEYDATA;
    if (noKeyData.has(type) && record.key.length !== 1) {
      throw makeError(
        'PSBT_INVALID',
        `The ${scope} ${index} has a field of type ${type} with unexpected key data.`,
        { scope, index, type },
      );
    }
    if (scope === 'input' && type === 0x02) checkPubkeyKey(record, scope, index, 'partial signature');
    if (type === (scope === 'input' ? 0x06 : 0x02)) {
      checkPubkeyKey(record, scope, index, 'BIP-32 derivation');
      // <4 byte fingerprint> <32-bit path element>*
      if (record.value.length < 4 || record.value.length % 4 !== 0) {
        throw makeError('PSBT_INVALID', `A BIP-32 derivation in ${scope} ${index} has a malformed path.`);
      }
    }
    if (scope === 'input' && type === 0x03 && record.value.length !== 4) {
      throw makeError('PSBT_INVALID', `The sighash type of input ${index} is not 4 bytes.`);
    }
  }
}

function versionOf(global: KeyValue[]): number {
  const record = global.find((r) => keyType(r) === PSBT_GLOBAL_VERSION);
  if (!record) return 0;
  if (record.key.length !== 1 || record.value.length !== 4) {
    throw makeError('PSBT_INVALID', 'The PSBT version field is malformed.');
  }
  return new Reader(record.value).uint32();
}

/**
 * Reads the framing of a binary PSBT strictly (BIP-174): magic, global map, one map per input and output
 * of the unsigned transaction, nothing after. Throws a ColdsignError with the code of the first fault.
 */
export function readPsbtMaps(bytes: Uint8Array): {
  maps: PsbtMaps;
  tx: UnsignedTxShape;
  unsignedTx: Uint8Array;
} {
  if (bytes.length < PSBT_MAGIC.length || !PSBT_MAGIC.every((b, i) => bytes[i] === b)) {
    throw makeError('PSBT_BAD_MAGIC', 'The data does not start with the PSBT magic bytes "psbt\\xff".');
  }
  const reader = new Reader(bytes);
  reader.take(PSBT_MAGIC.length);
  try {
    const global = readMap(reader, 'global', 0);
    const version = versionOf(global);
    // BIP-370 defines version 2; only version 0 (BIP-174) is signed here.
    if (version === 2)
      throw makeError(
        'PSBT_VERSION_UNSUPPORTED',
        'PSBT version 2 (BIP-370) is not supported yet; send a version 0 PSBT.',
      );
    if (version !== 0)
      throw makeError(
        'PSBT_VERSION_UNSUPPORTED',
        `PSBT version ${version} is not supported; send a version 0 PSBT.`,
      );
    const txRecords = global.filter((r) => keyType(r) === PSBT_GLOBAL_UNSIGNED_TX);
    if (txRecords.length === 0) throw makeError('PSBT_INVALID', 'The PSBT has no unsigned transaction.');
    const txRecord = txRecords[0]!;
    if (txRecord.key.length !== 1)
      throw makeError('PSBT_INVALID', 'The unsigned transaction key of the PSBT carries key data.');
    for (const record of global) {
      const type = keyType(record);
      if (V2_ONLY_GLOBAL.has(type)) {
        throw makeError(
          'PSBT_INVALID',
          `The global map carries a BIP-370 field (type ${type}) that a version 0 PSBT must not have.`,
        );
      }
    }
    const tx = readUnsignedTx(txRecord.value);
    const inputs: KeyValue[][] = [];
    for (let i = 0; i < tx.inputCount; i++) inputs.push(readMap(reader, 'input', i));
    const outputs: KeyValue[][] = [];
    for (let i = 0; i < tx.outputCount; i++) outputs.push(readMap(reader, 'output', i));
    inputs.forEach((m, i) => checkFields(m, 'input', i));
    outputs.forEach((m, i) => checkFields(m, 'output', i));
    if (reader.remaining > 0) throw trailingError(reader);
    return { maps: { global, inputs, outputs }, tx, unsignedTx: txRecord.value };
  } catch (error) {
    if (error instanceof Truncated) {
      throw makeError(
        'PSBT_TRUNCATED',
        'The PSBT ends in the middle of a record or before all input and output maps.',
      );
    }
    throw error;
  }
}

/** Bytes after the last map: whole extra maps mean the counts disagree with the transaction. */
export function trailingError(reader: Reader): Error {
  const extra = reader.remaining;
  try {
    const probe = new Reader(reader.bytes.subarray(reader.offset));
    while (probe.remaining > 0) readMap(probe, 'output', 0);
    return makeError(
      'PSBT_INCONSISTENT',
      'The PSBT has more input or output maps than its unsigned transaction has inputs and outputs.',
      { extraBytes: extra },
    );
  } catch {
    return makeError('PSBT_TRAILING_BYTES', `The PSBT has ${extra} bytes after its last output map.`, {
      extraBytes: extra,
    });
  }
}

function compactSizeLength(n: number): number {
  return n < 0xfd ? 1 : n <= 0xffff ? 3 : 5;
}

function writeCompactSize(n: number, out: Uint8Array, at: number): number {
  if (n < 0xfd) {
    out[at] = n;
    return at + 1;
  }
  if (n <= 0xffff) {
    out.set([0xfd, n & 0xff, n >>> 8], at);
    return at + 3;
  }
  out.set([0xfe, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24], at);
  return at + 5;
}

/** The binary PSBT for `maps`, records in their stored order (the inverse of readPsbtMaps). */
export function writePsbtMaps(maps: PsbtMaps): Uint8Array {
  const all = [maps.global, ...maps.inputs, ...maps.outputs];
  let size = PSBT_MAGIC.length;
  for (const records of all) {
    for (const { key, value } of records) {
      size += compactSizeLength(key.length) + key.length + compactSizeLength(value.length) + value.length;
    }
    size += 1; // BIP-174 map separator 0x00
  }
  const out = new Uint8Array(size);
  out.set(PSBT_MAGIC);
  let at = PSBT_MAGIC.length;
  for (const records of all) {
    for (const { key, value } of records) {
      at = writeCompactSize(key.length, out, at);
      out.set(key, at);
      at += key.length;
      at = writeCompactSize(value.length, out, at);
      out.set(value, at);
      at += value.length;
    }
    out[at++] = 0;
  }
  return out;
}
