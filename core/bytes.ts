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

/** Node's Buffer when the host has one (Node, Electron's main process); core/ imports no Node built-in. */
const hostBuffer = (
  globalThis as {
    Buffer?: { from(b: ArrayBufferLike, at: number, n: number): { toString(e: 'hex'): string } };
  }
).Buffer;

/**
 * Lower-case hex of bytes: the one hex codec of core/ and the chain codecs. The host's native codec when it has
 * one (one native call; @noble's JavaScript codec builds one string per byte, ~3 ms per 1,000-input
 * transaction), otherwise @noble's. Both give the same text (test/core/bytes.test.ts).
 */
export const toHex: (bytes: Uint8Array) => string = hostBuffer
  ? (bytes) => hostBuffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex')
  : bytesToHex;

export function sha256Hex(bytes: Uint8Array): string {
  return toHex(sha256(bytes));
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
