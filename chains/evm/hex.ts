/**
 * Lower-case hex of bytes by Node's native codec (Buffer is a global in Node and Electron's main process, where the
 * chain code runs). The JavaScript codec builds one string per byte: about a third of what a signed transaction's
 * review and signing allocated (docs/bench/evm.md).
 */
export function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}
