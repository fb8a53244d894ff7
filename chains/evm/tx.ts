/**
 * Unsigned EVM transactions (pure): legacy with EIP-155 chainId, EIP-2930 (type 1), EIP-1559 (type 2),
 * EIP-7702 (type 4). RLP and field decoding are ethers'; this module enforces the appliance's rules.
 */
import { Transaction, decodeRlp, getBytes, hexlify, verifyAuthorization, type TransactionLike } from 'ethers';
import { makeError, isColdsignError } from '../../core/errors.js';

/** geth's txMaxSize (128 KiB): larger transactions are not relayed, so they are not signed either. */
export const MAX_TX_BYTES = 128 * 1024;
const MAX_UINT64 = (1n << 64n) - 1n;

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

/** Counts the RLP fields and refuses signed, pre-EIP-155 and wrongly sized transactions. */
function checkFieldCount(bytes: Uint8Array, txType: SupportedTxType): void {
  let fields: unknown;
  try {
    fields = decodeRlp(txType === 0 ? bytes : bytes.subarray(1));
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
}

/** Range checks ethers does not make (EIP-155, EIP-1559, EIP-2681, EIP-7702). */
function checkFields(tx: Transaction, txType: SupportedTxType): number {
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

/** Parses the unsigned serialization of a transaction; the bytes must re-serialize identically. */
export function parseUnsignedTransaction(bytes: Uint8Array): {
  tx: Transaction;
  txType: SupportedTxType;
  chainId: number;
  unsigned: string;
} {
  if (bytes.length === 0) throw makeError('EVM_TX_INVALID', 'The transaction is empty.');
  if (bytes.length > MAX_TX_BYTES)
    throw makeError('INPUT_TOO_LARGE', `The transaction is larger than ${MAX_TX_BYTES} bytes.`);
  const txType = txTypeOf(bytes);
  checkFieldCount(bytes, txType);
  const hex = hexlify(bytes);
  let tx: Transaction;
  try {
    tx = Transaction.from(hex);
  } catch (error) {
    throw makeError(
      'EVM_TX_INVALID',
      `The transaction fields are invalid (${shortReason(error)}).`,
      {},
      error,
    );
  }
  if (tx.signature !== null)
    throw makeError('EVM_TX_INVALID', 'The transaction is already signed; send the unsigned transaction.');
  const chainId = checkFields(tx, txType);
  // Parse, don't guess: only the canonical encoding (no leading zeros, minimal lengths) is signed.
  let reserialized: string;
  try {
    reserialized = tx.unsignedSerialized;
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
  return { tx, txType, chainId, unsigned: hex };
}

/** Builds an unsigned transaction from fields (JSON requests) and validates it like a serialized one. */
export function transactionFromFields(fields: TransactionLike): ReturnType<typeof parseUnsignedTransaction> {
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
export function authorizationsOf(tx: Transaction): AuthorizationView[] {
  return (tx.authorizationList ?? []).map((auth) => {
    let authority: string | null = null;
    try {
      authority = verifyAuthorization(
        { address: auth.address, nonce: auth.nonce, chainId: auth.chainId },
        auth.signature,
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
