/**
 * QR decoders behind one interface: zxing-wasm (ZXing-C++ as WebAssembly) first, jsqr (pure JS) as fallback.
 * The .wasm is never fetched: the caller hands in its bytes (read from node_modules by the CLI, from the app's own
 * protocol by a renderer Worker) or a compiled WebAssembly.Module; the bytes are checked against the package's SHA-256.
 */
import { prepareZXingModule, readBarcodes, ZXING_WASM_SHA256, type ReaderOptions } from 'zxing-wasm/reader';
import jsQRModule from 'jsqr';
import { sha256 } from '@noble/hashes/sha2.js';
import { makeError } from '../core/errors.js';
import { toHex } from '../core/bytes.js';
import { checkFrameSize, MAX_DECODE_PIXELS } from './limits.js';

type JsQr = typeof import('jsqr').default;
const jsQR: JsQr = ((jsQRModule as unknown as { default?: JsQr }).default ?? jsQRModule) as JsQr;

export interface QrDecoder {
  readonly name: string;
  /** All QR texts found in one RGBA frame (empty when none is readable). */
  decode(rgba: Uint8ClampedArray, width: number, height: number): Promise<string[]>;
  /** The same from a luminance plane (one byte per pixel, e.g. a camera's Y plane), where the decoder reads one. */
  decodeLuminance?(luma: Uint8Array, width: number, height: number): Promise<string[]>;
}

function checkLuminance(luma: Uint8Array, width: number, height: number): void {
  checkFrameSize(width, height);
  if (!(luma instanceof Uint8Array) || luma.length !== width * height) {
    throw makeError('QR_IMAGE_INVALID', 'The frame is not width × height luminance bytes.');
  }
}

/**
 * A luminance plane wrapped as a binary PGM (Netpbm P5) image: zxing-wasm's readBarcodes takes an encoded image or
 * RGBA ImageData, and turns ImageData into luminance with its own JavaScript loop; a PGM reaches its C++ reader as
 * luminance directly (its image loader only copies the bytes).
 */
function luminanceAsPgm(luma: Uint8Array, width: number, height: number): Uint8Array {
  const header = new TextEncoder().encode(`P5\n${width} ${height}\n255\n`);
  const pgm = new Uint8Array(header.length + luma.length);
  pgm.set(header);
  pgm.set(luma, header.length);
  return pgm;
}

/** Luminance of an RGBA frame (ITU-R BT.601 weights in 10-bit fixed point, as zxing-wasm computes it). */
export function rgbaToLuminance(rgba: Uint8ClampedArray): Uint8Array {
  const luma = new Uint8Array(rgba.length >> 2);
  for (let i = 0, o = 0; i < luma.length; i++, o += 4) {
    luma[i] = (306 * rgba[o]! + 601 * rgba[o + 1]! + 117 * rgba[o + 2]! + 512) >> 10;
  }
  return luma;
}

/** Grey levels as RGBA (for decoders that read only RGBA). */
function luminanceToRgba(luma: Uint8Array): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(luma.length * 4);
  for (let i = 0, o = 0; i < luma.length; i++, o += 4) {
    rgba[o] = rgba[o + 1] = rgba[o + 2] = luma[i]!;
    rgba[o + 3] = 255;
  }
  return rgba;
}

/** zxing-wasm's reader module: its bytes, or the module compiled by the host (e.g. WebAssembly.compileStreaming in a Worker). */
export type ZxingWasmSource = Uint8Array | ArrayBuffer | WebAssembly.Module;

function checkFrame(rgba: Uint8ClampedArray, width: number, height: number): void {
  checkFrameSize(width, height);
  if (!(rgba instanceof Uint8ClampedArray) || rgba.length !== width * height * 4) {
    throw makeError('QR_IMAGE_INVALID', 'The frame is not width × height RGBA pixels.');
  }
}

const ZXING_OPTIONS: ReaderOptions = {
  formats: ['QRCode'],
  tryHarder: true,
  tryRotate: true,
  tryInvert: true,
  tryDownscale: true,
  // An animated UR shows one QR code per frame; stopping at the first symbol saves about a third of the time.
  maxNumberOfSymbols: 1,
};

/** A decoder over zxing-wasm, instantiated from the given local .wasm (no network: locateFile never yields a URL). */
export async function createZxingDecoder(
  wasm: ZxingWasmSource,
  options: { tryHarder?: boolean } = {},
): Promise<QrDecoder> {
  let instantiate: (imports: WebAssembly.Imports) => Promise<WebAssembly.Instance>;
  if (wasm instanceof WebAssembly.Module) {
    instantiate = (imports) => WebAssembly.instantiate(wasm, imports);
  } else {
    const bytes = wasm instanceof Uint8Array ? wasm : new Uint8Array(wasm);
    const digest = toHex(sha256(bytes));
    if (digest !== ZXING_WASM_SHA256) {
      throw makeError(
        'QR_DECODER_INVALID',
        'The zxing-wasm reader .wasm does not match the installed package (SHA-256 differs).',
        { sha256: digest },
      );
    }
    const copy = bytes.slice();
    instantiate = async (imports) => (await WebAssembly.instantiate(copy, imports)).instance;
  }
  try {
    await prepareZXingModule({
      overrides: {
        locateFile: (path: string) => `local-only:${path}`,
        instantiateWasm(imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void) {
          void instantiate(imports).then(done);
          return {};
        },
      },
      equalityFn: () => false,
      fireImmediately: true,
    });
  } catch (error) {
    throw makeError('QR_DECODER_INVALID', 'The zxing-wasm reader could not be instantiated.', {}, error);
  }
  const readerOptions: ReaderOptions = { ...ZXING_OPTIONS, tryHarder: options.tryHarder ?? true };
  return {
    name: 'zxing-wasm',
    async decode(rgba, width, height) {
      checkFrame(rgba, width, height);
      const results = await readBarcodes(
        { data: rgba, width, height, colorSpace: 'srgb' } as ImageData,
        readerOptions,
      );
      return results.filter((r) => r.isValid && r.text.length > 0).map((r) => r.text);
    },
    async decodeLuminance(luma, width, height) {
      checkLuminance(luma, width, height);
      const results = await readBarcodes(luminanceAsPgm(luma, width, height), readerOptions);
      return results.filter((r) => r.isValid && r.text.length > 0).map((r) => r.text);
    },
  };
}

/** A decoder over jsqr (pure JavaScript): slower, used as the fallback and for cross-checking. */
export function createJsqrDecoder(): QrDecoder {
  return {
    name: 'jsqr',
    async decode(rgba, width, height) {
      checkFrame(rgba, width, height);
      const found = jsQR(rgba, width, height, { inversionAttempts: 'attemptBoth' });
      return found && found.data.length > 0 ? [found.data] : [];
    },
  };
}

/**
 * A frame reduced to at most MAX_DECODE_PIXELS by averaging k×k blocks (k the smallest integer that fits), so a
 * large photo or camera frame costs what a 1080p frame costs; a QR code large enough to be scanned survives it.
 */
export function downsampleFrame(
  rgba: Uint8ClampedArray,
  width: number,
  height: number,
): { rgba: Uint8ClampedArray; width: number; height: number } {
  if (width * height <= MAX_DECODE_PIXELS) return { rgba, width, height };
  const k = Math.ceil(Math.sqrt((width * height) / MAX_DECODE_PIXELS));
  const w = Math.floor(width / k);
  const h = Math.floor(height / k);
  const out = new Uint8ClampedArray(w * h * 4);
  const area = k * k;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let dy = 0; dy < k; dy++) {
        let i = ((y * k + dy) * width + x * k) * 4;
        for (let dx = 0; dx < k; dx++, i += 4) {
          r += rgba[i]!;
          g += rgba[i + 1]!;
          b += rgba[i + 2]!;
        }
      }
      const o = (y * w + x) * 4;
      out[o] = r / area;
      out[o + 1] = g / area;
      out[o + 2] = b / area;
      out[o + 3] = 255;
    }
  }
  return { rgba: out, width: w, height: h };
}

/** Tries each decoder in turn and returns the first non-empty answer (zxing first, jsqr as fallback). */
export function createCompositeDecoder(decoders: QrDecoder[]): QrDecoder {
  if (decoders.length === 0)
    throw makeError('INTERNAL', 'Internal error: a composite QR decoder needs at least one decoder.');
  return {
    name: decoders.map((d) => d.name).join('+'),
    async decode(original, originalWidth, originalHeight) {
      checkFrame(original, originalWidth, originalHeight);
      const { rgba, width, height } = downsampleFrame(original, originalWidth, originalHeight);
      for (const decoder of decoders) {
        const texts = await decoder.decode(rgba, width, height);
        if (texts.length > 0) return texts;
      }
      return [];
    },
    async decodeLuminance(luma, width, height) {
      checkLuminance(luma, width, height);
      let rgba: Uint8ClampedArray | undefined;
      for (const decoder of decoders) {
        const texts = decoder.decodeLuminance
          ? await decoder.decodeLuminance(luma, width, height)
          : await decoder.decode((rgba ??= luminanceToRgba(luma)), width, height);
        if (texts.length > 0) return texts;
      }
      return [];
    },
  };
}

/** The standard decoder: zxing-wasm from the given .wasm, then jsqr. */
export async function createDefaultDecoder(wasm: ZxingWasmSource): Promise<QrDecoder> {
  return createCompositeDecoder([await createZxingDecoder(wasm), createJsqrDecoder()]);
}
