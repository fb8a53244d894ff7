/** EVM addresses of secp256k1 keys (pure). */
import { SigningKey, computeAddress, getAddress, hexlify } from 'ethers';
import { BoundedMemo } from '../../core/bounded-memo.js';
import { fromHex } from '../../core/bytes.js';
import { makeError } from '../../core/errors.js';
import { keccak256Bytes } from './keccak.js';

/** Addresses already derived, by public key hex (derivation validates the point, which is the slow part). */
const DERIVED_MAX = 1024;
const derived = new BoundedMemo<string, string>(DERIVED_MAX);

/** Yellow Paper: address = last 20 bytes of keccak256(X‖Y); EIP-55 mixed-case checksum. */
export function evmAddress(publicKey: Uint8Array): string {
  const hex = hexlify(publicKey);
  const known = derived.get(hex);
  if (known) return known;
  let uncompressed: string;
  try {
    // SEC1: the key must be a point on secp256k1 (checked by the curve library, compressed or not).
    uncompressed = SigningKey.computePublicKey(hex, false);
  } catch (error) {
    throw makeError('EVM_PUBLIC_KEY_INVALID', 'The public key is not a valid secp256k1 point.', {}, error);
  }
  const address = computeAddress(uncompressed);
  derived.set(hex, address);
  return address;
}

/** A registered EVM key's public key as bytes with its address, by its hex (parsed and hashed once per key). */
export interface EvmKeyPoint {
  publicKey: Uint8Array;
  address: string;
}

const points = new BoundedMemo<string, EvmKeyPoint>(DERIVED_MAX);

/**
 * The uncompressed SEC1 public key of `publicKeyHex` and its EIP-55 address, derived on first use and kept: a key
 * signs many requests, and every request would otherwise decode its key and hash it again. Throws
 * EVM_PUBLIC_KEY_INVALID when the hex is not a secp256k1 point. The bytes are shared: read them, never write.
 */
export function evmKeyPoint(publicKeyHex: string, what = 'The public key'): EvmKeyPoint {
  const known = points.get(publicKeyHex);
  if (known) return known;
  let publicKey: Uint8Array;
  try {
    publicKey = fromHex(publicKeyHex);
  } catch (error) {
    throw makeError('EVM_PUBLIC_KEY_INVALID', `${what} is not hex.`, {}, error);
  }
  const point = { publicKey, address: evmAddress(publicKey) };
  points.set(publicKeyHex, point);
  return point;
}

/** EIP-55 checksummed form of an address; throws `code` when it is not a valid address or a bad checksum. */
export function checksumAddress(
  text: string,
  what = 'address',
  code: 'REQUEST_INVALID' | 'EVM_TX_INVALID' = 'REQUEST_INVALID',
): string {
  try {
    return getAddress(text);
  } catch (error) {
    throw makeError(
      code,
      `The ${what} is not a valid EVM address (20 bytes hex, EIP-55 checksum when mixed case).`,
      {},
      error,
    );
  }
}

/** True when two addresses name the same account (case-insensitive). */
export function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

const asciiEncoder = new TextEncoder();
const asciiDecoder = new TextDecoder('latin1');

/**
 * EIP-55 mixed-case checksum of an address given as 40 lower-case hex digits (no 0x; the caller has them from a
 * decoder that produced exactly 20 bytes): digit i is upper case when nibble i of keccak256(the digits as ASCII)
 * is 8 or more. The letters are raised in the ASCII bytes that were hashed, then read back as one string.
 */
export function checksumLowerHex(digits: string): string {
  const ascii = asciiEncoder.encode(digits);
  const hash = keccak256Bytes(ascii);
  for (let i = 0; i < 40; i++) {
    const nibble = i % 2 === 0 ? hash[i >> 1]! >> 4 : hash[i >> 1]! & 0x0f;
    // ASCII a–f (0x61–0x66) to A–F; digits have no case
    if (nibble >= 8 && ascii[i]! >= 0x61) ascii[i] = ascii[i]! - 0x20;
  }
  return `0x${asciiDecoder.decode(ascii)}`;
}
