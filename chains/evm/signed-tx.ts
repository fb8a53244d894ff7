/**
 * The signed transaction built from the reviewed bytes (pure): the unsigned RLP list that was hashed and signed,
 * with (v or yParity, r, s) appended by viem's RLP codec. Nothing is re-serialized from a parsed object, so the
 * fields that leave are byte for byte the fields that were reviewed.
 */
import { fromRlp, toRlp } from 'viem';
import { concatBytes, fromHex } from '../../core/bytes.js';
import { makeError } from '../../core/errors.js';

/** RLP integer: minimal big-endian bytes, empty for zero (Yellow Paper, appendix B). */
function rlpInteger(value: bigint): Uint8Array {
  if (value === 0n) return new Uint8Array(0);
  const hex = value.toString(16);
  return fromHex(hex.length % 2 === 0 ? hex : `0${hex}`);
}

/** A big-endian 32-byte scalar as an RLP integer: its leading zero bytes dropped (Yellow Paper, appendix B). */
function rlpScalar(word: Uint8Array): Uint8Array {
  let start = 0;
  while (start < word.length && word[start] === 0) start++;
  return word.subarray(start);
}

/**
 * Appends the signature to the reviewed unsigned serialization. EIP-2718 typed (1, 2, 4): type byte ‖
 * rlp([...unsigned fields, yParity, r, s]). Legacy (EIP-155): the unsigned list is (6 fields, chainId, 0, 0);
 * the signed one is (6 fields, v = chainId·2 + 35 + yParity, r, s). r and s are the signature's 32-byte words.
 */
export function appendSignature(
  unsigned: Uint8Array,
  txType: number,
  signature: { v: bigint; r: Uint8Array; s: Uint8Array },
): Uint8Array {
  const typed = txType !== 0;
  const fields = fromRlp(typed ? unsigned.subarray(1) : unsigned, 'bytes');
  if (!Array.isArray(fields) || (!typed && fields.length !== 9))
    throw makeError('STATE_INCONSISTENT', 'The reviewed transaction is not an RLP list of its fields.');
  const kept = typed ? fields : fields.slice(0, 6);
  const list = toRlp(
    [...kept, rlpInteger(signature.v), rlpScalar(signature.r), rlpScalar(signature.s)],
    'bytes',
  );
  return typed ? concatBytes(unsigned.subarray(0, 1), list) : list;
}
