/**
 * parsePsbt: a request's bytes → a strictly checked PSBT v0 (BIP-174), decoded by bitcoinjs-lib (pure).
 */
import { Psbt, Transaction } from 'bitcoinjs-lib';
import { makeError, isColdsignError } from '../../core/errors.js';
import { equalBytes, toHex } from '../../core/bytes.js';
import { hash256With, pureSha256, type Sha256 } from '../../core/hasher.js';
import { decodePsbtTransport, type PsbtEncoding } from './encoding.js';
import { keyType, readPsbtMaps, writePsbtMaps, type PsbtMaps } from './maps.js';
import { MalformedPrevTx, readPrevTx, type PrevTx } from './prev-tx.js';
import { isPsbtV2, psbtV2ToV0, type PsbtV2Source } from './psbt-v2.js';

/** What a PSBT says about its network: 'mainnet', or 'test' for testnet, signet and regtest alike. */
export type NetworkHint = 'mainnet' | 'test';

export interface ParsedPsbt {
  /** Encoding the request came in; the signed PSBT is written back in the same one. */
  encoding: PsbtEncoding;
  /** The binary PSBT exactly as received (after base64/hex decoding): the request's canonical bytes. */
  canonical: Uint8Array;
  /** The BIP-174 records, in their stored order. */
  maps: PsbtMaps;
  /** The decoded PSBT (bitcoinjs-lib). */
  psbt: Psbt;
  /** The unsigned transaction. */
  tx: Transaction;
  /** Its txid (hex, display order). */
  txid: string;
  inputCount: number;
  outputCount: number;
  /** Decoded non_witness_utxo of each input (undefined when the input has none). */
  prevTxs: (PrevTx | undefined)[];
  /** Network suggested by xpub versions or BIP-44/49/84 coin types, when any is present. */
  networkHint?: NetworkHint;
  /** BIP-370: the request was a version 2 PSBT (read as its v0 equivalent); the answer is written as v2. */
  v2?: PsbtV2Source;
  /** The SHA-256 the PSBT was parsed with (txids), used again for its BIP-143 digests when it is signed. */
  sha256: Sha256;
}

export interface ParseOptions {
  /** SHA-256 implementation (core/hasher.ts): the appliance passes Node's native one; default @noble/hashes. */
  sha256?: Sha256;
}

const XPUB_MAINNET = 0x0488b21e;
const XPUB_TESTNET = 0x043587cf;
const HARDENED = 0x80000000;
/** BIP-44/45/48/49/84/86 purposes: the next path element is the SLIP-44 coin type (0' Bitcoin, 1' test networks). */
const PURPOSES_WITH_COIN = new Set([44, 45, 48, 49, 84, 86]);

function uint32le(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

function hintFromPath(value: Uint8Array): NetworkHint | undefined {
  if (value.length < 12) return undefined;
  const purpose = uint32le(value, 4);
  const coin = uint32le(value, 8);
  if (!(purpose & HARDENED) || !PURPOSES_WITH_COIN.has(purpose - HARDENED)) return undefined;
  if (coin === HARDENED) return 'mainnet';
  if (coin === HARDENED + 1) return 'test';
  return undefined;
}

/** BIP-32 key versions of global xpubs, then coin types of derivation paths. Conflicts are refused. */
function inferNetwork(maps: PsbtMaps): NetworkHint | undefined {
  const hints = new Set<NetworkHint>();
  for (const record of maps.global) {
    if (keyType(record) !== 0x01 || record.key.length !== 79) continue;
    const version =
      ((record.key[1]! << 24) | (record.key[2]! << 16) | (record.key[3]! << 8) | record.key[4]!) >>> 0;
    if (version === XPUB_MAINNET) hints.add('mainnet');
    if (version === XPUB_TESTNET) hints.add('test');
  }
  const derivations = [
    ...maps.inputs.flatMap((m) => m.filter((r) => keyType(r) === 0x06)),
    ...maps.outputs.flatMap((m) => m.filter((r) => keyType(r) === 0x02)),
  ];
  for (const record of derivations) {
    const hint = hintFromPath(record.value);
    if (hint) hints.add(hint);
  }
  if (hints.size > 1) {
    throw makeError(
      'PSBT_NETWORK_MISMATCH',
      'The PSBT mixes mainnet and test-network keys or derivation paths.',
    );
  }
  return hints.values().next().value;
}

/** Core's decodepsbt rule: a non_witness_utxo must be the transaction the input spends (txid and index). */
function checkPrevouts(psbt: Psbt, tx: Transaction, sha256: Sha256): (PrevTx | undefined)[] {
  return psbt.data.inputs.map((input, index) => {
    if (!input.nonWitnessUtxo) return undefined;
    const txIn = tx.ins[index]!;
    let prev: PrevTx;
    try {
      prev = readPrevTx(input.nonWitnessUtxo, sha256, txIn.index);
    } catch (cause) {
      const reason = cause instanceof MalformedPrevTx ? ` (${cause.message})` : '';
      throw makeError(
        'PSBT_INVALID',
        `The previous transaction of input ${index} is malformed${reason}.`,
        { input: index },
        cause,
      );
    }
    if (!equalBytes(prev.hash, txIn.hash)) {
      throw makeError(
        'PSBT_UTXO_MISMATCH',
        `The previous transaction given for input ${index} is not the one it spends (txid differs).`,
        {
          input: index,
        },
      );
    }
    if (prev.spent === undefined) {
      throw makeError(
        'PSBT_UTXO_MISMATCH',
        `Input ${index} spends output ${txIn.index}, but its previous transaction has only ` +
          `${prev.outputCount} output${prev.outputCount === 1 ? '' : 's'}.`,
        {
          input: index,
        },
      );
    }
    return prev;
  });
}

/**
 * The txid (display order) of the unsigned transaction from its record's bytes: readPsbtMaps has checked
 * that they are exactly its non-witness serialization (minimal CompactSizes, nothing after), the bytes a
 * txid hashes, so the decoded transaction need not be serialized again.
 */
function txidOf(unsignedTx: Uint8Array, sha256: Sha256): string {
  return toHex(hash256With(sha256, unsignedTx).reverse());
}

/** Decodes and checks a PSBT request: binary, base64 or hex (detected from content), version 0 or 2. */
export function parsePsbt(input: Uint8Array, options: ParseOptions = {}): ParsedPsbt {
  const sha256 = options.sha256 ?? pureSha256;
  const { bytes: received, encoding } = decodePsbtTransport(input);
  const v2 = isPsbtV2(received) ? psbtV2ToV0(received) : undefined;
  const bytes = v2 ? v2.v0 : received;
  const { maps, tx: shape, unsignedTx } = readPsbtMaps(bytes);
  if (shape.inputCount === 0) {
    // A transaction without inputs is ambiguous with the segwit marker and spends nothing (BIP-144).
    throw makeError('PSBT_NOTHING_TO_SIGN', 'The PSBT has no inputs; there is nothing to sign.');
  }
  let psbt: Psbt;
  try {
    psbt = Psbt.fromBuffer(bytes);
  } catch (cause) {
    if (isColdsignError(cause)) throw cause;
    const detail = cause instanceof Error ? cause.message.replace(/\.$/, '') : 'unknown field';
    throw makeError('PSBT_INVALID', `The PSBT has a malformed field (${detail.slice(0, 120)}).`, {}, cause);
  }
  // bitcoinjs-lib's cached copy of the unsigned transaction (read-only here).
  const tx = (psbt as unknown as { __CACHE: { __TX: Transaction } }).__CACHE.__TX;
  const prevTxs = checkPrevouts(psbt, tx, sha256);
  const parsed: ParsedPsbt = {
    encoding,
    canonical: received,
    maps,
    psbt,
    tx,
    txid: txidOf(unsignedTx, sha256),
    prevTxs,
    inputCount: shape.inputCount,
    outputCount: shape.outputCount,
    sha256,
  };
  const hint = inferNetwork(maps);
  if (hint) parsed.networkHint = hint;
  if (v2) parsed.v2 = v2.source;
  return parsed;
}

/** The binary PSBT of the parsed records, unchanged (used to prove byte-for-byte round trips). */
export function serializeParsed(parsed: ParsedPsbt): Uint8Array {
  return writePsbtMaps(parsed.v2 ? parsed.v2.maps : parsed.maps);
}
