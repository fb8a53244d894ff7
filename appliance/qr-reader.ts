/** QR images read on the Node side: zxing-wasm from its local .wasm (never a CDN), jsqr as fallback. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { QrImageReader } from '../core/pipeline/intake.js';
import type { QrDecoder } from '../qr/index.js';

const require = createRequire(import.meta.url);

/** Path of zxing-wasm's reader .wasm, resolved through the package's exports map. */
export function zxingReaderWasmPath(): string {
  return require.resolve('zxing-wasm/reader/zxing_reader.wasm');
}

export function readZxingReaderWasm(): Uint8Array {
  return new Uint8Array(readFileSync(zxingReaderWasmPath()));
}

/** zxing-wasm (from the local .wasm) with jsqr as fallback. The QR libraries load on first use. */
export async function createNodeQrDecoder(): Promise<QrDecoder> {
  const { createDefaultDecoder } = await import('../qr/index.js');
  return createDefaultDecoder(readZxingReaderWasm());
}

/** zxing-wasm alone (benchmarks and cross-checks). */
export async function createNodeZxingDecoder(options?: { tryHarder?: boolean }): Promise<QrDecoder> {
  const { createZxingDecoder } = await import('../qr/index.js');
  return createZxingDecoder(readZxingReaderWasm(), options);
}

let decoder: Promise<QrDecoder> | undefined;

export const nodeQrReader: QrImageReader = {
  async readImage(bytes) {
    decoder ??= createNodeQrDecoder();
    const { decodeQrImage } = await import('../qr/index.js');
    return decodeQrImage(bytes, await decoder);
  },
};
