/** QR images read on the Node side: zxing-wasm from its local .wasm (never a CDN), jsqr as fallback. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { makeError } from '../core/errors.js';
import type { QrImageReader } from '../core/pipeline/intake.js';
import type { QrDecoder, RawDeflate } from '../qr/index.js';

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

/** BBQr's Z encoding: raw DEFLATE with a 2^10-byte window (so Coldcard-class devices can inflate it). */
export const nodeRawDeflate: RawDeflate = {
  inflate(data, maxBytes) {
    try {
      return new Uint8Array(inflateRawSync(data, { maxOutputLength: maxBytes }));
    } catch (error) {
      if (error instanceof RangeError)
        throw makeError(
          'QR_PAYLOAD_TOO_LARGE',
          `The compressed BBQr inflates to more than ${maxBytes - 1} bytes.`,
        );
      throw error;
    }
  },
  deflate: (data) => new Uint8Array(deflateRawSync(data, { windowBits: 10, level: 9 })),
};

let decoder: Promise<QrDecoder> | undefined;

export const nodeQrReader: QrImageReader = {
  deflate: nodeRawDeflate,
  async readImage(bytes) {
    decoder ??= createNodeQrDecoder();
    const { decodeQrImage } = await import('../qr/index.js');
    return decodeQrImage(bytes, await decoder);
  },
};
