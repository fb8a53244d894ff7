/**
 * Lower-case hex of bytes by Node's native codec, for both chains (Buffer is a global in Node and Electron's main
 * process, where the chain code runs). The JavaScript codec builds one string per byte: ~3 ms per 1,000-input
 * transaction and about a third of what an EVM transaction's review and signing allocated (docs/bench/evm.md).
 */
export function nativeHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}
