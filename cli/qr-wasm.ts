/** Node side of the QR decoder: reads zxing-wasm's reader .wasm from the installed package (never from a CDN). */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createDefaultDecoder, createZxingDecoder, type QrDecoder } from '../qr/index.js';

const require = createRequire(import.meta.url);

/** Path of node_modules/zxing-wasm/dist/reader/zxing_reader.wasm, resolved through the package's exports map. */
export function zxingReaderWasmPath(): string {
  return require.resolve('zxing-wasm/reader/zxing_reader.wasm');
}

export function readZxingReaderWasm(): Uint8Array {
  return new Uint8Array(readFileSync(zxingReaderWasmPath()));
}

/** zxing-wasm (from the local .wasm) with jsqr as fallback. */
export function createNodeQrDecoder(): Promise<QrDecoder> {
  return createDefaultDecoder(readZxingReaderWasm());
}

/** zxing-wasm alone (benchmarks and cross-checks). */
export function createNodeZxingDecoder(options?: { tryHarder?: boolean }): Promise<QrDecoder> {
  return createZxingDecoder(readZxingReaderWasm(), options);
}
