/**
 * Unsigned EVM transactions (pure): legacy with EIP-155 chainId, EIP-2930 (type 1), EIP-1559 (type 2),
 * EIP-7702 (type 4). RLP decoding is viem's (several times faster than ethers' on the signing path,
 * docs/bench/evm-codec.md); the fields of a plain canonical transaction are read from that one decoded list, the
 * rest are viem's parse; this module enforces the appliance's rules. ethers builds transactions from JSON fields.
 */
import { Signature, Transaction, getBytes, verifyAuthorization, type TransactionLike } from 'ethers';
import {
  fromRlp,
  getAddress,
  parseTransaction,
  serializeTransaction,
  type AccessList,
  type Hex,
  type SignedAuthorizationList,
  type TransactionSerializable,
} from 'viem';
import { toHex as nativeHex } from '../../core/bytes.js';
import { makeError, isColdsignError } from '../../core/errors.js';
import { checksumLowerHex } from './address.js';
import type { EvmTxFields } from './types.js';

/** geth's txMaxSize (128 KiB): larger transactions are not relayed, so they are not signed either. */
export const MAX_TX_BYTES = 128 * 1024;
const MAX_UINT64 = (1n << 64n) - 1n;
const MAX_UINT256 = (1n << 256n) - 1n;

type ViemTransaction = TransactionSerializable & { type: 'legacy' | 'eip2930' | 'eip1559' | 'eip7702' };

export interface ParsedUnsignedTransaction {
  fields: EvmTxFields;
  txType: SupportedTxType;
  chainId: number;
  /** The unsigned serialization, 0x hex (lower case). */
  unsigned: string;
  /** The same serialization as bytes (a copy of the input, which it equals byte for byte). */
  bytes: Uint8Array;
}

/** Unsigned RLP field counts per EIP-2718 type (signed forms carry 3 more: yParity/v, r, s). */
const UNSIGNED_FIELDS: Record<number, number> = { 0: 9, 1: 8, 2: 9, 4: 10 };

export type SupportedTxType = 0 | 1 | 2 | 4;

function shortReason(error: unknown): string {
  const e = error as { shortMessage?: string; message?: string };
  return String(e?.shortMessage ?? e?.message ?? error)
    .split('\n')[0]!
    .slice(0, 160);
}

/** Reads the EIP-2718 envelope byte and refuses what the appliance does not sign. */
function txTypeOf(bytes: Uint8Array): SupportedTxType {
  const first = bytes[0]!;
  // EIP-2718: a first byte ≥ 0xc0 is a legacy RLP list.
  if (first >= 0xc0) return 0;
  if (first === 0x01 || first === 0x02 || first === 0x04) return first;
  // EIP-4844 blob transactions need blob sidecars and KZG proofs the appliance does not review.
  if (first === 0x03)
    throw makeError('EVM_TX_UNSUPPORTED', 'EIP-4844 blob transactions (type 3) are not supported.', {
      txType: 3,
    });
  if (first <= 0x7f)
    throw makeError(
      'EVM_TX_UNSUPPORTED',
      `Transaction type ${first} is not supported (only legacy, 1, 2 and 4).`,
      { txType: first },
    );
  throw makeError('EVM_TX_INVALID', 'The transaction is not an RLP list nor an EIP-2718 typed envelope.');
}

type RlpItem = string | RlpItem[];

/** Decodes the RLP list (viem's decoder refuses non-minimal lengths and trailing bytes) and checks its field count. */
function rlpFields(bytes: Uint8Array, txType: SupportedTxType): RlpItem[] {
  let fields: RlpItem;
  try {
    fields = fromRlp(txType === 0 ? bytes : bytes.subarray(1), 'hex') as RlpItem;
  } catch (error) {
    throw makeError('EVM_TX_INVALID', `The transaction is not valid RLP (${shortReason(error)}).`, {}, error);
  }
  if (!Array.isArray(fields))
    throw makeError('EVM_TX_INVALID', 'The transaction payload is an RLP string, not a list of fields.');
  const expected = UNSIGNED_FIELDS[txType]!;
  // EIP-155: a legacy transaction with 6 fields has no chainId and can be replayed on every chain.
  if (txType === 0 && fields.length === 6) {
    throw makeError(
      'EVM_CHAIN_ID_MISSING',
      'The legacy transaction has no EIP-155 chainId and could be replayed on any chain.',
    );
  }
  if (fields.length === expected + 3 && txType !== 0) {
    throw makeError('EVM_TX_INVALID', 'The transaction is already signed; send the unsigned transaction.', {
      txType,
    });
  }
  if (fields.length !== expected) {
    throw makeError(
      'EVM_TX_INVALID',
      `A type ${txType} unsigned transaction has ${expected} RLP fields, not ${fields.length}.`,
      {
        txType,
        fields: fields.length,
      },
    );
  }
  // EIP-155: an unsigned legacy transaction ends with chainId, 0, 0.
  if (txType === 0 && (fields[7] !== '0x' || fields[8] !== '0x')) {
    throw makeError(
      'EVM_TX_INVALID',
      'The legacy transaction is already signed (r and s are set); send the unsigned transaction.',
    );
  }
  return fields;
}

/** An RLP integer field as a bigint (empty = 0), or undefined when the field is a list. */
function rlpInteger(item: RlpItem | undefined): bigint | undefined {
  return typeof item === 'string' ? (item === '0x' ? 0n : BigInt(item)) : undefined;
}

function fieldsInvalid(reason: string, error?: unknown): never {
  throw makeError('EVM_TX_INVALID', `The transaction fields are invalid (${reason}).`, {}, error);
}

const LOWER_ADDRESS = /^0x[0-9a-f]{40}$/;

/** EIP-55 form of an address the parser read from the transaction bytes (lower-case hex: the fast checksum). */
function reviewedAddress(hex: string): string {
  return LOWER_ADDRESS.test(hex) ? checksumLowerHex(hex.slice(2)) : getAddress(hex);
}

/** The reviewed fields from viem's parse, addresses EIP-55 checksummed, absent fields at their RLP defaults. */
function reviewedFields(tx: ViemTransaction, chainId: bigint): EvmTxFields {
  const fees = tx as { gasPrice?: bigint; maxFeePerGas?: bigint; maxPriorityFeePerGas?: bigint };
  const typed = tx.type !== 'legacy';
  const dynamicFee = tx.type === 'eip1559' || tx.type === 'eip7702';
  const accessList = (tx as { accessList?: AccessList }).accessList;
  const authorizations = (tx as { authorizationList?: SignedAuthorizationList }).authorizationList;
  return {
    chainId,
    nonce: tx.nonce ?? 0,
    gasLimit: tx.gas ?? 0n,
    gasPrice: dynamicFee ? null : (fees.gasPrice ?? 0n),
    maxFeePerGas: dynamicFee ? (fees.maxFeePerGas ?? 0n) : null,
    maxPriorityFeePerGas: dynamicFee ? (fees.maxPriorityFeePerGas ?? 0n) : null,
    to: tx.to ? reviewedAddress(tx.to) : null,
    value: tx.value ?? 0n,
    data: tx.data ?? '0x',
    accessList: typed
      ? (accessList ?? []).map((entry) => ({
          address: getAddress(entry.address),
          storageKeys: [...entry.storageKeys],
        }))
      : null,
    authorizationList:
      tx.type === 'eip7702'
        ? (authorizations ?? []).map((auth) => ({
            chainId: BigInt(auth.chainId),
            address: getAddress(auth.address),
            nonce: BigInt(auth.nonce),
            yParity: auth.yParity ?? 0,
            r: auth.r,
            s: auth.s,
          }))
        : null,
  };
}

/** Range checks the parser does not make (EIP-155, EIP-1559, EIP-2681, EIP-7702). */
function checkFields(tx: EvmTxFields, txType: SupportedTxType): number {
  // EIP-155 / EIP-2930: chainId 0 is valid on every chain; refuse it as missing.
  if (tx.chainId === 0n)
    throw makeError('EVM_CHAIN_ID_MISSING', 'The transaction has chainId 0, which is valid on every chain.');
  if (tx.chainId > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw makeError(
      'EVM_TX_INVALID',
      'The transaction chainId is larger than any supported chain id (2^53 - 1).',
    );
  }
  // EIP-2681: nonce < 2^64 - 1.
  if (BigInt(tx.nonce) >= MAX_UINT64)
    throw makeError('EVM_TX_INVALID', 'The nonce is out of range (EIP-2681: below 2^64 - 1).');
  if (tx.gasLimit > MAX_UINT64)
    throw makeError('EVM_TX_INVALID', 'The gas limit is out of range (above 2^64 - 1).');
  if (tx.gasLimit === 0n) throw makeError('EVM_TX_INVALID', 'The gas limit is zero.');
  // Yellow Paper: value and fees are 256-bit integers.
  for (const amount of [tx.value, tx.gasPrice, tx.maxFeePerGas, tx.maxPriorityFeePerGas])
    if (amount !== null && amount > MAX_UINT256) fieldsInvalid('an amount exceeds 2^256 - 1');
  if (txType === 2 || txType === 4) {
    // EIP-1559: the priority fee cannot exceed the fee cap.
    if ((tx.maxPriorityFeePerGas ?? 0n) > (tx.maxFeePerGas ?? 0n)) {
      throw makeError('EVM_TX_INVALID', 'maxPriorityFeePerGas is larger than maxFeePerGas (EIP-1559).');
    }
  }
  if (txType === 4) {
    // EIP-7702: a set-code transaction has a destination and at least one authorization.
    if (tx.to === null)
      throw makeError('EVM_TX_INVALID', 'An EIP-7702 transaction cannot create a contract (to is empty).');
    if ((tx.authorizationList ?? []).length === 0)
      throw makeError('EVM_TX_INVALID', 'An EIP-7702 transaction has an empty authorization list.');
  }
  return Number(tx.chainId);
}

/**
 * Parses the unsigned serialization of a transaction with viem; the bytes must be the canonical encoding of the
 * parsed fields (checked on the decoded fields for plain transactions, by re-serializing for the rest), so every
 * byte that is signed is a byte of a field that was reviewed.
 */
export function parseUnsignedTransaction(bytes: Uint8Array): ParsedUnsignedTransaction {
  if (bytes.length === 0) throw makeError('EVM_TX_INVALID', 'The transaction is empty.');
  if (bytes.length > MAX_TX_BYTES)
    throw makeError('INPUT_TOO_LARGE', `The transaction is larger than ${MAX_TX_BYTES} bytes.`);
  const txType = txTypeOf(bytes);
  const list = rlpFields(bytes, txType);
  const hex = `0x${nativeHex(bytes)}` as Hex;
  // EIP-155: the legacy chainId is the 7th field; typed transactions carry it first (EIP-2718).
  const chainIdField = rlpInteger(list[txType === 0 ? 6 : 0]);
  // EIP-155 / EIP-2930: chainId 0 is valid on every chain. Named before the other fields are read (viem
  // refuses it with its own message), so it wins over any other fault of the same transaction.
  if (chainIdField === 0n)
    throw makeError('EVM_CHAIN_ID_MISSING', 'The transaction has chainId 0, which is valid on every chain.');
  if (chainIdField === undefined) fieldsInvalid('the chainId is not an integer');
  // Parse, don't guess: only the canonical encoding (no leading zeros, minimal lengths) is signed. A plain one is
  // read from the RLP list already decoded; the rest goes through viem's parse and re-serialization.
  if (isPlainCanonical(list, txType)) {
    const fields = plainFields(list as string[], txType as PlainTxType, chainIdField);
    const chainId = checkFields(fields, txType);
    return { fields, txType, chainId, unsigned: hex, bytes: bytes.slice() };
  }
  let parsed: ViemTransaction;
  try {
    parsed = parseTransaction(hex) as ViemTransaction;
  } catch (error) {
    fieldsInvalid(shortReason(error), error);
  }
  const fields = reviewedFields(parsed, chainIdField);
  const chainId = checkFields(fields, txType);
  checkAuthorizationSignatures(list, txType);
  let reserialized: string;
  try {
    reserialized = serializeTransaction(parsed);
  } catch (error) {
    throw makeError(
      'EVM_TX_INVALID',
      `The transaction cannot be serialized (${shortReason(error)}).`,
      {},
      error,
    );
  }
  if (reserialized !== hex) {
    throw makeError(
      'EVM_TX_INVALID',
      'The transaction is not in canonical RLP form (leading zeros or non-minimal lengths).',
    );
  }
  return { fields, txType, chainId, unsigned: hex, bytes: bytes.slice() };
}

/** RLP positions of the integer fields of an unsigned legacy, EIP-2930 and EIP-1559 transaction, and of `to`. */
const INTEGER_FIELDS: Record<number, readonly number[]> = {
  0: [0, 1, 2, 4, 6],
  1: [0, 1, 2, 3, 5],
  2: [0, 1, 2, 3, 4, 6],
};
const ACCESS_LIST_FIELD: Record<number, number> = { 1: 7, 2: 8 };

/**
 * Whether a legacy, EIP-2930 or EIP-1559 transaction without access-list entries is the one canonical encoding of
 * its fields, which is what re-serializing them and comparing would show (and costs a serialization):
 * viem's RLP decoder already refused non-minimal lengths and trailing bytes, so what remains is that every field is
 * a byte string and every integer is minimal (Yellow Paper, Appendix B: no leading zero byte; zero is empty).
 * False sends the transaction to the re-serialization (access lists, EIP-7702, anything not canonical).
 */
function isPlainCanonical(list: RlpItem[], txType: SupportedTxType): boolean {
  const integers = INTEGER_FIELDS[txType];
  if (integers === undefined) return false;
  const accessListAt = ACCESS_LIST_FIELD[txType];
  for (let at = 0; at < list.length; at++) {
    const item = list[at]!;
    if (at === accessListAt) {
      if (!Array.isArray(item) || item.length !== 0) return false;
    } else if (typeof item !== 'string') return false;
  }
  for (const at of integers) if ((list[at] as string).startsWith('00', 2)) return false;
  return true;
}

type PlainTxType = 0 | 1 | 2;

/** RLP positions of the fields of an unsigned legacy (EIP-155), EIP-2930 and EIP-1559 transaction. */
const PLAIN_LAYOUT: Record<
  PlainTxType,
  { nonce: number; gasPrice?: number; maxPriorityFee?: number; maxFee?: number; gas: number; to: number }
> = {
  0: { nonce: 0, gasPrice: 1, gas: 2, to: 3 },
  1: { nonce: 1, gasPrice: 2, gas: 3, to: 4 },
  2: { nonce: 1, maxPriorityFee: 2, maxFee: 3, gas: 4, to: 5 },
};

/**
 * The reviewed fields of a plain canonical transaction (isPlainCanonical) read from its RLP list, with the checks
 * viem's parse makes on them (a `to` of 20 bytes or empty; a nonce that is a safe JavaScript number); value and
 * data follow `to`. checkFields makes the range checks afterwards, as on viem's result.
 */
function plainFields(list: string[], txType: PlainTxType, chainId: bigint): EvmTxFields {
  const at = PLAIN_LAYOUT[txType];
  const integer = (position: number | undefined): bigint | null =>
    position === undefined ? null : rlpInteger(list[position])!;
  const nonce = integer(at.nonce)!;
  if (nonce > BigInt(Number.MAX_SAFE_INTEGER)) fieldsInvalid('the nonce is larger than 2^53 - 1');
  const to = list[at.to]!;
  // Yellow Paper: `to` is a 20-byte address, or empty for a contract creation.
  if (to !== '0x' && to.length !== 42) fieldsInvalid('`to` is not a 20-byte address');
  return {
    chainId,
    nonce: Number(nonce),
    gasLimit: integer(at.gas)!,
    gasPrice: integer(at.gasPrice),
    maxFeePerGas: integer(at.maxFee),
    maxPriorityFeePerGas: integer(at.maxPriorityFee),
    to: to === '0x' ? null : checksumLowerHex(to.slice(2)),
    value: integer(at.to + 1)!,
    data: list[at.to + 2]!,
    accessList: txType === 0 ? null : [],
    authorizationList: null,
  };
}

/** EIP-7702 authorization tuples: 6 fields, y_parity 0 or 1, r and s at most 32 bytes (as ethers reads them). */
function checkAuthorizationSignatures(list: RlpItem[], txType: SupportedTxType): void {
  if (txType !== 4) return;
  const tuples = list[9];
  if (!Array.isArray(tuples)) fieldsInvalid('the authorization list is not a list');
  for (const tuple of tuples) {
    if (!Array.isArray(tuple) || tuple.length !== 6) fieldsInvalid('an authorization is not 6 fields');
    const yParity = rlpInteger(tuple[3]);
    if (yParity !== 0n && yParity !== 1n) fieldsInvalid('an authorization y_parity is not 0 or 1');
  }
}

/** Builds an unsigned transaction from fields (JSON requests) and validates it like a serialized one. */
export function transactionFromFields(fields: TransactionLike): ParsedUnsignedTransaction {
  let serialized: string;
  try {
    const tx = Transaction.from({ ...fields, signature: null });
    serialized = tx.unsignedSerialized;
  } catch (error) {
    if (isColdsignError(error)) throw error;
    throw makeError(
      'REQUEST_INVALID',
      `The transaction fields are invalid (${shortReason(error)}).`,
      {},
      error,
    );
  }
  return parseUnsignedTransaction(getBytes(serialized));
}

/** One EIP-7702 authorization as shown to the operator, with the authority recovered from its signature. */
export interface AuthorizationView {
  chainId: string;
  /** Contract whose code the authority delegates to. */
  address: string;
  nonce: string;
  /** Account that signed the authorization, or null when its signature does not recover. */
  authority: string | null;
}

/** EIP-7702: authority = ecrecover(keccak(0x05 ‖ rlp([chainId, address, nonce])), yParity, r, s). */
export function authorizationsOf(tx: EvmTxFields): AuthorizationView[] {
  return (tx.authorizationList ?? []).map((auth) => {
    let authority: string | null = null;
    try {
      authority = verifyAuthorization(
        { address: auth.address, nonce: auth.nonce, chainId: auth.chainId },
        Signature.from({ r: auth.r, s: auth.s, yParity: auth.yParity as 0 | 1 }),
      );
    } catch {
      authority = null;
    }
    return {
      chainId: auth.chainId.toString(),
      address: auth.address,
      nonce: auth.nonce.toString(),
      authority,
    };
  });
}
