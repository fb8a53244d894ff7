/**
 * PSBT version 2 (BIP-370), pure: a v2 request is read strictly, converted to the equivalent v0 PSBT
 * (BIP-174) that the signer already understands, and the signed v0 is turned back into v2 so that the
 * answer is in the version received. Nothing is dropped or reordered on the way back: every record of the
 * request keeps its place, the signer's new records follow.
 */
import { makeError } from '../../core/errors.js';
import { PSBT_MAGIC } from './encoding.js';
import {
  keyType,
  readMap,
  readPsbtMaps,
  Reader,
  trailingError,
  Truncated,
  writePsbtMaps,
  type KeyValue,
  type PsbtMaps,
} from './maps.js';
import { MAX_MONEY } from './units.js';

// BIP-174/370 key types used here.
const GLOBAL_UNSIGNED_TX = 0x00;
const GLOBAL_TX_VERSION = 0x02;
const GLOBAL_FALLBACK_LOCKTIME = 0x03;
const GLOBAL_INPUT_COUNT = 0x04;
const GLOBAL_OUTPUT_COUNT = 0x05;
const GLOBAL_TX_MODIFIABLE = 0x06;
const GLOBAL_VERSION = 0xfb;
const IN_PREVIOUS_TXID = 0x0e;
const IN_OUTPUT_INDEX = 0x0f;
const IN_SEQUENCE = 0x10;
const IN_REQUIRED_TIME_LOCKTIME = 0x11;
const IN_REQUIRED_HEIGHT_LOCKTIME = 0x12;
const OUT_AMOUNT = 0x03;
const OUT_SCRIPT = 0x04;

/** BIP-370 global fields that exist only in v2 (and PSBT_GLOBAL_VERSION): not carried into the v0 form. */
const V2_GLOBAL = new Set([
  GLOBAL_TX_VERSION,
  GLOBAL_FALLBACK_LOCKTIME,
  GLOBAL_INPUT_COUNT,
  GLOBAL_OUTPUT_COUNT,
  GLOBAL_TX_MODIFIABLE,
  GLOBAL_VERSION,
]);
const V2_INPUT = new Set([
  IN_PREVIOUS_TXID,
  IN_OUTPUT_INDEX,
  IN_SEQUENCE,
  IN_REQUIRED_TIME_LOCKTIME,
  IN_REQUIRED_HEIGHT_LOCKTIME,
]);
const V2_OUTPUT = new Set([OUT_AMOUNT, OUT_SCRIPT]);

/** Value sizes of the fixed-size v2 fields (BIP-370 tables). */
const GLOBAL_SIZES = new Map([
  [GLOBAL_TX_VERSION, 4],
  [GLOBAL_FALLBACK_LOCKTIME, 4],
  [GLOBAL_TX_MODIFIABLE, 1],
  [GLOBAL_VERSION, 4],
]);
const INPUT_SIZES = new Map([
  [IN_PREVIOUS_TXID, 32],
  [IN_OUTPUT_INDEX, 4],
  [IN_SEQUENCE, 4],
  [IN_REQUIRED_TIME_LOCKTIME, 4],
  [IN_REQUIRED_HEIGHT_LOCKTIME, 4],
]);
const OUTPUT_SIZES = new Map([[OUT_AMOUNT, 8]]);

/** Consensus: nLockTime values below this are block heights, from it on Unix times (BIP-65). */
const LOCKTIME_THRESHOLD = 500_000_000;
/** Transaction versions a v2 PSBT may build: 2 (BIP-68 relative locktimes) and 3 (TRUC, standard since Core 28). */
const TX_VERSIONS = new Set([2, 3]);

/** What the answer needs to be written back as v2. */
export interface PsbtV2Source {
  /** The v2 records as received. */
  maps: PsbtMaps;
}

export interface PsbtV2Conversion {
  /** The equivalent BIP-174 v0 PSBT (binary). */
  v0: Uint8Array;
  source: PsbtV2Source;
  /** The transaction's nLockTime, determined as BIP-370 "Determining Lock Time" says. */
  locktime: number;
}

function invalid(message: string, info: Record<string, number> = {}): Error {
  return makeError('PSBT_INVALID', message, info);
}

function uint32(value: Uint8Array): number {
  return new Reader(value).uint32();
}

function writeUint32(n: number, out: number[]): void {
  out.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
}

function writeCompactSize(n: number, out: number[]): void {
  if (n < 0xfd) out.push(n);
  else if (n <= 0xffff) out.push(0xfd, n & 0xff, n >>> 8);
  else {
    out.push(0xfe);
    writeUint32(n, out);
  }
}

/** The one record of `type`; BIP-174: a key appears once per map, and these keys carry no key data. */
function single(records: KeyValue[], type: number): KeyValue | undefined {
  return records.find((r) => keyType(r) === type);
}

/** BIP-370 singleton fields have no key data and a fixed value size (where the table gives one). */
function checkSingletons(
  records: KeyValue[],
  sizes: Map<number, number>,
  fields: Set<number>,
  where: string,
): void {
  for (const record of records) {
    const type = keyType(record);
    if (!fields.has(type)) continue;
    if (record.key.length !== 1) {
      throw invalid(`The ${where} has a field of type ${type} with key data; BIP-370 gives it none.`, {
        type,
      });
    }
    const size = sizes.get(type);
    if (size !== undefined && record.value.length !== size) {
      throw invalid(
        `The ${where} has a field of type ${type} of ${record.value.length} bytes, not ${size}.`,
        {
          type,
        },
      );
    }
  }
}

/** PSBT_GLOBAL_INPUT_COUNT / OUTPUT_COUNT: a minimal CompactSize filling the whole value (BIP-370). */
function countOf(global: KeyValue[], type: number, what: string): number {
  const record = single(global, type);
  if (!record)
    throw invalid(`The version 2 PSBT has no ${what} count (PSBT_GLOBAL_${what.toUpperCase()}_COUNT).`);
  const reader = new Reader(record.value);
  let count: number;
  try {
    count = reader.compactSize();
  } catch (error) {
    if (error instanceof Truncated) throw invalid(`The ${what} count of the version 2 PSBT is malformed.`);
    throw error;
  }
  if (reader.remaining !== 0) throw invalid(`The ${what} count of the version 2 PSBT has trailing bytes.`);
  return count;
}

/** Whether `bytes` (a binary PSBT) declares PSBT_GLOBAL_VERSION 2; framing faults are left to the full reader. */
export function isPsbtV2(bytes: Uint8Array): boolean {
  if (bytes.length < PSBT_MAGIC.length || !PSBT_MAGIC.every((b, i) => bytes[i] === b)) return false;
  try {
    const reader = new Reader(bytes);
    reader.take(PSBT_MAGIC.length);
    const version = single(readMap(reader, 'global', 0), GLOBAL_VERSION);
    return version !== undefined && version.value.length === 4 && uint32(version.value) === 2;
  } catch {
    return false;
  }
}

/** Reads a v2 PSBT strictly (BIP-174 framing, BIP-370 inclusion and exclusion rules). */
function readV2Maps(bytes: Uint8Array): PsbtMaps {
  const reader = new Reader(bytes);
  reader.take(PSBT_MAGIC.length);
  try {
    const global = readMap(reader, 'global', 0);
    const version = single(global, GLOBAL_VERSION);
    // BIP-370: PSBT_GLOBAL_VERSION must be included in PSBTv2 and set to 2.
    if (!version || version.key.length !== 1 || version.value.length !== 4 || uint32(version.value) !== 2) {
      throw makeError(
        'PSBT_VERSION_UNSUPPORTED',
        'The PSBT does not declare version 2 (PSBT_GLOBAL_VERSION).',
      );
    }
    // BIP-370: PSBT_GLOBAL_UNSIGNED_TX must be excluded in PSBTv2.
    if (single(global, GLOBAL_UNSIGNED_TX)) {
      throw invalid('A version 2 PSBT must not carry an unsigned transaction (PSBT_GLOBAL_UNSIGNED_TX).');
    }
    checkSingletons(global, GLOBAL_SIZES, V2_GLOBAL, 'global map');
    if (!single(global, GLOBAL_TX_VERSION)) {
      throw invalid('The version 2 PSBT has no transaction version (PSBT_GLOBAL_TX_VERSION).');
    }
    const inputCount = countOf(global, GLOBAL_INPUT_COUNT, 'input');
    const outputCount = countOf(global, GLOBAL_OUTPUT_COUNT, 'output');
    // Each map takes at least its 0x00 separator: a count beyond the bytes left is a truncated PSBT.
    if (inputCount + outputCount > reader.remaining) throw new Truncated();
    const inputs: KeyValue[][] = [];
    for (let i = 0; i < inputCount; i++) inputs.push(readMap(reader, 'input', i));
    const outputs: KeyValue[][] = [];
    for (let i = 0; i < outputCount; i++) outputs.push(readMap(reader, 'output', i));
    if (reader.remaining > 0) throw trailingError(reader);
    return { global, inputs, outputs };
  } catch (error) {
    if (error instanceof Truncated) {
      throw makeError(
        'PSBT_TRUNCATED',
        'The version 2 PSBT ends in the middle of a record or before all the input and output maps it counts.',
      );
    }
    throw error;
  }
}

interface InputFields {
  txid: Uint8Array;
  vout: number;
  sequence: number;
  time?: number;
  height?: number;
}

function inputFields(records: KeyValue[], index: number): InputFields {
  const where = `input ${index}`;
  checkSingletons(records, INPUT_SIZES, V2_INPUT, where);
  const txid = single(records, IN_PREVIOUS_TXID);
  const vout = single(records, IN_OUTPUT_INDEX);
  // BIP-370: PSBT_IN_PREVIOUS_TXID and PSBT_IN_OUTPUT_INDEX are required in v2.
  if (!txid) throw invalid(`Input ${index} has no previous txid (PSBT_IN_PREVIOUS_TXID).`, { input: index });
  if (!vout)
    throw invalid(`Input ${index} has no spent output index (PSBT_IN_OUTPUT_INDEX).`, { input: index });
  const sequence = single(records, IN_SEQUENCE);
  const fields: InputFields = {
    txid: txid.value,
    vout: uint32(vout.value),
    // BIP-370: an omitted sequence is the final sequence number 0xffffffff.
    sequence: sequence ? uint32(sequence.value) : 0xffffffff,
  };
  const time = single(records, IN_REQUIRED_TIME_LOCKTIME);
  if (time) {
    fields.time = uint32(time.value);
    // BIP-370: a required time-based locktime is at least 500000000.
    if (fields.time < LOCKTIME_THRESHOLD) {
      throw invalid(`Input ${index} requires a time locktime below 500000000, which is a block height.`, {
        input: index,
      });
    }
  }
  const height = single(records, IN_REQUIRED_HEIGHT_LOCKTIME);
  if (height) {
    fields.height = uint32(height.value);
    // BIP-370: a required height-based locktime is above 0 and below 500000000.
    if (fields.height === 0 || fields.height >= LOCKTIME_THRESHOLD) {
      throw invalid(`Input ${index} requires a height locktime outside 1 to 499999999.`, { input: index });
    }
  }
  return fields;
}

interface OutputFields {
  amount: Uint8Array;
  script: Uint8Array;
}

function outputFields(records: KeyValue[], index: number): OutputFields {
  checkSingletons(records, OUTPUT_SIZES, V2_OUTPUT, `output ${index}`);
  const amount = single(records, OUT_AMOUNT);
  const script = single(records, OUT_SCRIPT);
  // BIP-370: PSBT_OUT_AMOUNT and PSBT_OUT_SCRIPT are required in v2.
  if (!amount) throw invalid(`Output ${index} has no amount (PSBT_OUT_AMOUNT).`, { output: index });
  if (!script) throw invalid(`Output ${index} has no script (PSBT_OUT_SCRIPT).`, { output: index });
  const view = new DataView(amount.value.buffer, amount.value.byteOffset, 8);
  const sats = view.getBigInt64(0, true);
  // Consensus: an output amount lies in 0..MAX_MONEY.
  if (sats < 0n || sats > MAX_MONEY) {
    throw invalid(`Output ${index} has an amount outside 0 to 21 million BTC.`, { output: index });
  }
  return { amount: amount.value, script: script.value };
}

/**
 * BIP-370 "Determining Lock Time": no input requires one → the fallback (default 0); otherwise the type
 * every requiring input supports (height when both are possible), and the maximum of that type.
 */
export function determineLocktime(fallback: number, inputs: { time?: number; height?: number }[]): number {
  const requiring = inputs.filter((i) => i.time !== undefined || i.height !== undefined);
  if (requiring.length === 0) return fallback;
  const heightOk = requiring.every((i) => i.height !== undefined);
  const timeOk = requiring.every((i) => i.time !== undefined);
  if (heightOk) return Math.max(...requiring.map((i) => i.height!));
  if (timeOk) return Math.max(...requiring.map((i) => i.time!));
  throw invalid('The inputs of this version 2 PSBT require incompatible locktimes (a height and a time).');
}

/** BIP-174 unsigned transaction (non-witness serialization, empty scriptSigs) of the v2 fields. */
function unsignedTransaction(
  txVersion: Uint8Array,
  inputs: InputFields[],
  outputs: OutputFields[],
  locktime: number,
): Uint8Array {
  const out: number[] = [...txVersion];
  writeCompactSize(inputs.length, out);
  for (const input of inputs) {
    out.push(...input.txid);
    writeUint32(input.vout, out);
    out.push(0); // empty scriptSig
    writeUint32(input.sequence, out);
  }
  writeCompactSize(outputs.length, out);
  for (const output of outputs) {
    out.push(...output.amount);
    writeCompactSize(output.script.length, out);
    out.push(...output.script);
  }
  writeUint32(locktime, out);
  return Uint8Array.from(out);
}

/** A v2 PSBT (binary) → its checked v0 equivalent (BIP-370 "Backwards Compatibility"). */
export function psbtV2ToV0(bytes: Uint8Array): PsbtV2Conversion {
  const maps = readV2Maps(bytes);
  const txVersion = single(maps.global, GLOBAL_TX_VERSION)!.value;
  const version = new DataView(txVersion.buffer, txVersion.byteOffset, 4).getInt32(0, true);
  if (!TX_VERSIONS.has(version)) {
    throw invalid(
      `The version 2 PSBT builds a transaction of version ${version}; only versions 2 and 3 are signed.`,
    );
  }
  const inputs = maps.inputs.map(inputFields);
  const outputs = maps.outputs.map(outputFields);
  const fallback = single(maps.global, GLOBAL_FALLBACK_LOCKTIME);
  const locktime = determineLocktime(fallback ? uint32(fallback.value) : 0, inputs);
  const unsignedTx = unsignedTransaction(txVersion, inputs, outputs, locktime);
  const v0: PsbtMaps = {
    global: [
      { key: Uint8Array.of(GLOBAL_UNSIGNED_TX), value: unsignedTx },
      ...maps.global.filter((r) => !V2_GLOBAL.has(keyType(r))),
    ],
    inputs: maps.inputs.map((m) => m.filter((r) => !V2_INPUT.has(keyType(r)))),
    outputs: maps.outputs.map((m) => m.filter((r) => !V2_OUTPUT.has(keyType(r)))),
  };
  return { v0: writePsbtMaps(v0), source: { maps }, locktime };
}

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/**
 * One map of the answer: the request's records in their order (v2-only fields as received, the others as
 * the signer left them, dropped when the finalizer cleared them), then the records the signer added.
 */
function mergeMap(received: KeyValue[], signed: KeyValue[], v2Only: Set<number>): KeyValue[] {
  const signedByKey = new Map(signed.map((r) => [hex(r.key), r]));
  const out: KeyValue[] = [];
  const seen = new Set<string>();
  for (const record of received) {
    const id = hex(record.key);
    seen.add(id);
    if (v2Only.has(keyType(record))) out.push(record);
    else if (signedByKey.has(id)) out.push(signedByKey.get(id)!);
  }
  for (const record of signed) if (!seen.has(hex(record.key))) out.push(record);
  return out;
}

/** BIP-143/legacy sighash type bits. */
const SIGHASH_NONE = 0x02;
const SIGHASH_SINGLE = 0x03;
const SIGHASH_ANYONECANPAY = 0x80;

/**
 * BIP-370 Signer: after signing, PSBT_GLOBAL_TX_MODIFIABLE reflects the signatures — inputs are no longer
 * modifiable unless every signature is ANYONECANPAY, outputs unless every one is NONE, and SINGLE sets bit 2.
 * An absent field (nothing modifiable) stays absent.
 */
function updateModifiable(global: KeyValue[], sighashTypes: number[]): KeyValue[] {
  if (sighashTypes.length === 0) return global;
  return global.map((record) => {
    if (keyType(record) !== GLOBAL_TX_MODIFIABLE) return record;
    let flags = record.value[0]!;
    for (const type of sighashTypes) {
      if (!(type & SIGHASH_ANYONECANPAY)) flags &= ~0x01;
      if ((type & 0x1f) !== SIGHASH_NONE) flags &= ~0x02;
      if ((type & 0x1f) === SIGHASH_SINGLE) flags |= 0x04;
    }
    return { key: record.key, value: Uint8Array.of(flags) };
  });
}

/** The signed v0 records written back as the v2 PSBT the request was (BIP-370: answer in the version received). */
export function psbtV0ToV2(signedV0: PsbtMaps, source: PsbtV2Source, sighashTypes: number[]): PsbtMaps {
  const { maps } = source;
  if (signedV0.inputs.length !== maps.inputs.length || signedV0.outputs.length !== maps.outputs.length) {
    throw makeError('INTERNAL', 'The signed PSBT does not have the inputs and outputs of the request.');
  }
  const signedGlobal = signedV0.global.filter((r) => keyType(r) !== GLOBAL_UNSIGNED_TX);
  return {
    global: updateModifiable(mergeMap(maps.global, signedGlobal, V2_GLOBAL), sighashTypes),
    inputs: maps.inputs.map((m, i) => mergeMap(m, signedV0.inputs[i]!, V2_INPUT)),
    outputs: maps.outputs.map((m, i) => mergeMap(m, signedV0.outputs[i]!, V2_OUTPUT)),
  };
}

/** The signer's output (a binary v0 PSBT) in the version of the request: v2 when it came as v2 (BIP-370). */
export function answerInVersion(
  v2: PsbtV2Source | undefined,
  signedV0: Uint8Array,
  sighashTypes: number[],
): Uint8Array {
  if (!v2) return signedV0;
  return writePsbtMaps(psbtV0ToV2(readPsbtMaps(signedV0).maps, v2, sighashTypes));
}
