/**
 * The signed transaction built from the reviewed bytes (pure): the unsigned RLP list that was hashed and signed,
 * with (v or yParity, r, s) appended. The reviewed list's items are copied as they are (only the list header is
 * rewritten), so the fields that leave are byte for byte the fields that were reviewed; nothing is decoded into
 * values or re-serialized.
 */
import { makeError } from '../../core/errors.js';

function inconsistent(): never {
  throw makeError('STATE_INCONSISTENT', 'The reviewed transaction is not an RLP list of its fields.');
}

/** A big-endian length of `size` bytes at `offset` (RLP long form). */
function readLength(bytes: Uint8Array, offset: number, size: number): number {
  if (size > 4 || offset + size > bytes.length) inconsistent();
  let length = 0;
  for (let i = 0; i < size; i++) length = length * 256 + bytes[offset + i]!;
  return length;
}

/**
 * Where the RLP item at `offset` has its payload and where it ends (Yellow Paper, appendix B): a byte below 0x80
 * is itself; 0x80–0xb7 / 0xc0–0xf7 prefix a string / list of up to 55 bytes; 0xb8–0xbf / 0xf8–0xff prefix the
 * big-endian length of a longer one.
 */
function rlpItem(bytes: Uint8Array, offset: number): { list: boolean; payload: number; end: number } {
  if (offset >= bytes.length) inconsistent();
  const first = bytes[offset]!;
  let item: { list: boolean; payload: number; end: number };
  if (first < 0x80) item = { list: false, payload: offset, end: offset + 1 };
  else if (first <= 0xb7) item = { list: false, payload: offset + 1, end: offset + 1 + first - 0x80 };
  else if (first <= 0xbf) {
    const size = first - 0xb7;
    const payload = offset + 1 + size;
    item = { list: false, payload, end: payload + readLength(bytes, offset + 1, size) };
  } else if (first <= 0xf7) item = { list: true, payload: offset + 1, end: offset + 1 + first - 0xc0 };
  else {
    const size = first - 0xf7;
    const payload = offset + 1 + size;
    item = { list: true, payload, end: payload + readLength(bytes, offset + 1, size) };
  }
  if (item.end > bytes.length) inconsistent();
  return item;
}

/** The start offset of each item of a list payload [from, to). */
function itemStarts(bytes: Uint8Array, from: number, to: number): number[] {
  const starts: number[] = [];
  for (let at = from; at < to; at = rlpItem(bytes, at).end) starts.push(at);
  return starts;
}

/** RLP of a byte string of at most 55 bytes (the signature's v, r and s). */
function rlpShortString(value: Uint8Array): Uint8Array {
  if (value.length === 1 && value[0]! < 0x80) return value;
  if (value.length > 55) inconsistent();
  const out = new Uint8Array(1 + value.length);
  out[0] = 0x80 + value.length;
  out.set(value, 1);
  return out;
}

/** RLP integer: minimal big-endian bytes, empty for zero (Yellow Paper, appendix B). */
function rlpInteger(value: bigint): Uint8Array {
  const bytes: number[] = [];
  for (let rest = value; rest > 0n; rest >>= 8n) bytes.unshift(Number(rest & 0xffn));
  return Uint8Array.from(bytes);
}

/** A big-endian 32-byte scalar as an RLP integer: its leading zero bytes dropped (Yellow Paper, appendix B). */
function rlpScalar(word: Uint8Array): Uint8Array {
  let start = 0;
  while (start < word.length && word[start] === 0) start++;
  return word.subarray(start);
}

/** An RLP list header for a payload of `length` bytes. */
function listHeader(length: number): Uint8Array {
  if (length <= 55) return Uint8Array.of(0xc0 + length);
  const size: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) size.unshift(rest % 256);
  return Uint8Array.from([0xf7 + size.length, ...size]);
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
  const listStart = typed ? 1 : 0;
  const list = rlpItem(unsigned, listStart);
  if (!list.list || list.end !== unsigned.length) inconsistent();
  let keptEnd = list.end;
  if (!typed) {
    const starts = itemStarts(unsigned, list.payload, list.end);
    if (starts.length !== 9) inconsistent();
    keptEnd = starts[6]!;
  }
  const tail = [
    rlpShortString(rlpInteger(signature.v)),
    rlpShortString(rlpScalar(signature.r)),
    rlpShortString(rlpScalar(signature.s)),
  ];
  const payloadLength = keptEnd - list.payload + tail.reduce((sum, item) => sum + item.length, 0);
  const header = listHeader(payloadLength);
  const out = new Uint8Array(listStart + header.length + payloadLength);
  out.set(unsigned.subarray(0, listStart), 0);
  out.set(header, listStart);
  let at = listStart + header.length;
  out.set(unsigned.subarray(list.payload, keptEnd), at);
  at += keptEnd - list.payload;
  for (const item of tail) {
    out.set(item, at);
    at += item.length;
  }
  return out;
}
