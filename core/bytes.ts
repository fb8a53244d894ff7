/** Byte helpers shared by every module (pure). */
import { bytesToHex, hexToBytes, concatBytes, equalBytes } from '@noble/curves/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';

export { bytesToHex, concatBytes, equalBytes };

const HEX_RE = /^(0x)?([0-9a-fA-F]{2})*$/;

export function isHex(text: string): boolean {
  return HEX_RE.test(text);
}

/** Hex (optionally 0x-prefixed) to bytes; throws on odd length or non-hex characters. */
export function fromHex(text: string): Uint8Array {
  if (!isHex(text)) throw new TypeError('not a hex string');
  return hexToBytes(text.startsWith('0x') ? text.slice(2) : text);
}

export function toHex(bytes: Uint8Array): string {
  return bytesToHex(bytes);
}

export function sha256Hex(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
