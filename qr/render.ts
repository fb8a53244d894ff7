/**
 * QR frame rendering with qrcode (ISO/IEC 18004) — the Node-free core and renderers only; PNG written by pngjs' sync
 * encoder. URs are upper-cased and sent in alphanumeric mode (BCR-2020-005: case-insensitive, QR alphanumeric set).
 */
import { create } from 'qrcode/lib/core/qrcode.js';
import { getOptions, getImageWidth, qrToImageData } from 'qrcode/lib/renderer/utils.js';
import { render as renderSvgTag } from 'qrcode/lib/renderer/svg-tag.js';
import type { QRCode, QRCodeSegment } from 'qrcode';
import pngjs from 'pngjs';
import { makeError } from '../core/errors.js';
import { toBuffer } from './ur-parts.js';

export type ErrorCorrection = 'L' | 'M';

export interface QrRenderOptions {
  /** L (default: most data per frame, as wallets use for animated URs) or M. */
  errorCorrection?: ErrorCorrection;
  /** Pixels per module (default 4). */
  scale?: number;
  /** Quiet zone in modules (default 4, the ISO minimum). */
  margin?: number;
}

export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/** The QR alphanumeric character set (ISO/IEC 18004 §7.4.4). */
const ALPHANUMERIC = /^[0-9A-Z $%*+\-./:]*$/;

/** Segments for a QR payload: a UR goes upper-case in alphanumeric mode; other text is left to qrcode's mode choice. */
export function qrSegments(text: string): QRCodeSegment[] | string {
  if (text.length === 0) throw makeError('INPUT_EMPTY', 'Nothing to encode: the QR text is empty.');
  const upper = /^ur:/i.test(text) ? text.toUpperCase() : text;
  return ALPHANUMERIC.test(upper) ? [{ data: upper, mode: 'alphanumeric' }] : text;
}

/** The QR symbol (module matrix and version) for `text`. */
export function createQrSymbol(text: string, errorCorrection: ErrorCorrection = 'L'): QRCode {
  if (errorCorrection !== 'L' && errorCorrection !== 'M')
    throw makeError('USAGE', 'QR error correction must be L or M.');
  try {
    return create(qrSegments(text), { errorCorrectionLevel: errorCorrection });
  } catch (error) {
    if (error instanceof Error && /too big|amount of data/i.test(error.message)) {
      throw makeError(
        'QR_PAYLOAD_TOO_LARGE',
        'The text does not fit one QR code; use a smaller UR fragment size.',
      );
    }
    throw error;
  }
}

function checkScale(options: QrRenderOptions): { scale: number; margin: number } {
  const scale = options.scale ?? 4;
  const margin = options.margin ?? 4;
  if (!Number.isInteger(scale) || scale < 1 || scale > 32)
    throw makeError('USAGE', 'The QR scale must be a whole number of pixels from 1 to 32.');
  if (!Number.isInteger(margin) || margin < 0 || margin > 16)
    throw makeError('USAGE', 'The QR margin must be a whole number of modules from 0 to 16.');
  return { scale, margin };
}

/** The QR code as an RGBA bitmap (black modules on white, `margin` modules of quiet zone). */
export function renderQrRgba(text: string, options: QrRenderOptions = {}): RgbaImage {
  const symbol = createQrSymbol(text, options.errorCorrection ?? 'L');
  const rendererOptions = getOptions(checkScale(options));
  const width = getImageWidth(symbol.modules.size, rendererOptions);
  const data = new Uint8ClampedArray(width * width * 4);
  qrToImageData(data, symbol, rendererOptions);
  return { width, height: width, data };
}

/** The QR code as PNG file bytes. */
export function renderQrPng(text: string, options: QrRenderOptions = {}): Uint8Array {
  return encodePng(renderQrRgba(text, options));
}

/** An RGBA image as PNG bytes (pngjs' synchronous encoder; no file system). */
export function encodePng(image: RgbaImage): Uint8Array {
  const png = new pngjs.PNG({ width: image.width, height: image.height });
  png.data = toBuffer(new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength));
  return new Uint8Array(pngjs.PNG.sync.write(png));
}

/** The QR code as a standalone SVG element (scalable, for the desktop UI). */
export function renderQrSvg(
  text: string,
  options: Pick<QrRenderOptions, 'errorCorrection' | 'margin'> = {},
): string {
  const symbol = createQrSymbol(text, options.errorCorrection ?? 'L');
  return renderSvgTag(symbol, { margin: checkScale(options).margin });
}
