/**
 * Image files to RGBA frames: PNG (pngjs) and JPEG (jpeg-js), detected by their magic bytes, never by file name.
 * Hostile images are refused before decoding: byte size, pixel count and dimensions are capped.
 */
import pngjs from 'pngjs';
import jpeg from 'jpeg-js';
import { makeError } from '../core/errors.js';
import { toBuffer } from './ur-parts.js';
import type { RgbaImage } from './render.js';
import { checkFrameSize, MAX_IMAGE_PIXELS } from './limits.js';
import { detectImageKind } from './sniff.js';

export { MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, checkFrameSize } from './limits.js';

/** Largest image file accepted, in bytes. */
export const MAX_IMAGE_FILE_BYTES = 64 * 1024 * 1024;

export { detectImageKind, type ImageKind } from './sniff.js';

function readU32(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset] ?? 0) * 0x1000000 +
      (((bytes[offset + 1] ?? 0) << 16) | ((bytes[offset + 2] ?? 0) << 8) | (bytes[offset + 3] ?? 0))) >>>
    0
  );
}

/** PNG: IHDR must be the first chunk (ISO/IEC 15948 §11.2.2); its width and height are checked before any inflate. */
function pngDimensions(bytes: Uint8Array): { width: number; height: number } {
  const ihdr = String.fromCharCode(...bytes.subarray(12, 16));
  if (bytes.length < 33 || ihdr !== 'IHDR' || readU32(bytes, 8) !== 13)
    throw makeError('QR_IMAGE_INVALID', 'The PNG file is truncated or has no IHDR header.');
  return { width: readU32(bytes, 16), height: readU32(bytes, 20) };
}

/** JPEG: the first SOFn segment gives the frame size (ITU T.81 B.2.2). */
function jpegDimensions(bytes: Uint8Array): { width: number; height: number } | undefined {
  let offset = 2;
  while (offset + 9 < bytes.length) {
    if (bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1] ?? 0;
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    const length = ((bytes[offset + 2] ?? 0) << 8) | (bytes[offset + 3] ?? 0);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      const height = ((bytes[offset + 5] ?? 0) << 8) | (bytes[offset + 6] ?? 0);
      const width = ((bytes[offset + 7] ?? 0) << 8) | (bytes[offset + 8] ?? 0);
      return { width, height };
    }
    offset += 2 + length;
  }
  return undefined;
}

/** Decodes a PNG or JPEG file to RGBA, refusing anything else and anything too large. */
export function decodeImageFile(bytes: Uint8Array): RgbaImage {
  if (bytes.length === 0) throw makeError('QR_IMAGE_INVALID', 'The image file is empty.');
  if (bytes.length > MAX_IMAGE_FILE_BYTES) {
    throw makeError(
      'QR_IMAGE_INVALID',
      `The image file is ${bytes.length} bytes, more than the ${MAX_IMAGE_FILE_BYTES} accepted.`,
    );
  }
  const kind = detectImageKind(bytes);
  if (kind === 'png') return decodePng(bytes);
  if (kind === 'jpeg') return decodeJpeg(bytes);
  throw makeError('QR_IMAGE_INVALID', 'The file is neither a PNG nor a JPEG image.');
}

function decodePng(bytes: Uint8Array): RgbaImage {
  const { width, height } = pngDimensions(bytes);
  checkFrameSize(width, height);
  let png: { width: number; height: number; data: Uint8Array };
  try {
    png = pngjs.PNG.sync.read(toBuffer(bytes));
  } catch {
    throw makeError('QR_IMAGE_INVALID', 'The PNG file is corrupt or truncated.');
  }
  return toRgba(png.width, png.height, png.data);
}

function decodeJpeg(bytes: Uint8Array): RgbaImage {
  const size = jpegDimensions(bytes);
  if (!size) throw makeError('QR_IMAGE_INVALID', 'The JPEG file is corrupt or truncated (no frame header).');
  checkFrameSize(size.width, size.height);
  let image: { width: number; height: number; data: Uint8Array };
  try {
    image = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6,
      maxMemoryUsageInMB: 1024,
    });
  } catch {
    throw makeError('QR_IMAGE_INVALID', 'The JPEG file is corrupt, truncated or of an unsupported kind.');
  }
  return toRgba(image.width, image.height, image.data);
}

function toRgba(width: number, height: number, data: Uint8Array): RgbaImage {
  checkFrameSize(width, height);
  if (data.length !== width * height * 4)
    throw makeError('QR_IMAGE_INVALID', 'The image decoded to an unexpected number of pixels.');
  return { width, height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength) };
}
