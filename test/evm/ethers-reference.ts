/**
 * The transaction parser as it was before viem, on ethers v6 (test oracle only): the differential test feeds the
 * same hostile bytes to this and to chains/evm/tx.ts and expects the same outcome — the same fields, or a refusal
 * with the same error code.
 */
import { Transaction, decodeRlp, hexlify } from 'ethers';
import { makeError } from '../../core/errors.js';
import { MAX_TX_BYTES } from '../../chains/evm/tx.js';

const MAX_UINT64 = (1n << 64n) - 1n;
const UNSIGNED_FIELDS: Record<number, number> = { 0: 9, 1: 8, 2: 9, 4: 10 };

function txTypeOf(first: number): number {
  if (first >= 0xc0) return 0;
  if (first === 0x01 || first === 0x02 || first === 0x04) return first;
  if (first <= 0x7f) throw makeError('EVM_TX_UNSUPPORTED', 'unsupported type');
  throw makeError('EVM_TX_INVALID', 'not an envelope');
}

function checkFieldCount(bytes: Uint8Array, txType: number): void {
  let fields: unknown;
  try {
    fields = decodeRlp(txType === 0 ? bytes : bytes.subarray(1));
  } catch {
    throw makeError('EVM_TX_INVALID', 'bad RLP');
  }
  if (!Array.isArray(fields)) throw makeError('EVM_TX_INVALID', 'not a list');
  if (txType === 0 && fields.length === 6) throw makeError('EVM_CHAIN_ID_MISSING', 'no chain id');
  if (fields.length !== UNSIGNED_FIELDS[txType]) throw makeError('EVM_TX_INVALID', 'field count');
  if (txType === 0 && (fields[7] !== '0x' || fields[8] !== '0x'))
    throw makeError('EVM_TX_INVALID', 'signed legacy');
}

function checkFields(tx: Transaction, txType: number): void {
  if (tx.chainId === 0n) throw makeError('EVM_CHAIN_ID_MISSING', 'chain id 0');
  if (tx.chainId > BigInt(Number.MAX_SAFE_INTEGER)) throw makeError('EVM_TX_INVALID', 'chain id');
  if (BigInt(tx.nonce) >= MAX_UINT64) throw makeError('EVM_TX_INVALID', 'nonce');
  if (tx.gasLimit > MAX_UINT64 || tx.gasLimit === 0n) throw makeError('EVM_TX_INVALID', 'gas');
  if ((txType === 2 || txType === 4) && (tx.maxPriorityFeePerGas ?? 0n) > (tx.maxFeePerGas ?? 0n))
    throw makeError('EVM_TX_INVALID', 'tip');
  if (txType === 4 && (tx.to === null || (tx.authorizationList ?? []).length === 0))
    throw makeError('EVM_TX_INVALID', '7702');
}

/** ethers' reading of an unsigned transaction, or a ColdsignError with the code the appliance used to give. */
export function ethersParse(bytes: Uint8Array): Transaction {
  if (bytes.length === 0) throw makeError('EVM_TX_INVALID', 'empty');
  if (bytes.length > MAX_TX_BYTES) throw makeError('INPUT_TOO_LARGE', 'too large');
  const txType = txTypeOf(bytes[0]!);
  if (bytes[0] === 0x03) throw makeError('EVM_TX_UNSUPPORTED', 'blob');
  checkFieldCount(bytes, txType);
  const hex = hexlify(bytes);
  let tx: Transaction;
  try {
    tx = Transaction.from(hex);
  } catch {
    throw makeError('EVM_TX_INVALID', 'fields');
  }
  if (tx.signature !== null) throw makeError('EVM_TX_INVALID', 'signed');
  checkFields(tx, txType);
  let again: string;
  try {
    again = tx.unsignedSerialized;
  } catch {
    throw makeError('EVM_TX_INVALID', 'serialize');
  }
  if (again !== hex) throw makeError('EVM_TX_INVALID', 'not canonical');
  return tx;
}
