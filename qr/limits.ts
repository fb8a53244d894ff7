/** Size caps for frames and images (kept apart so a camera Worker can use them without the image codecs). */
import { makeError } from '../core/errors.js';

/** Largest frame accepted, in pixels (16 megapixels): a budget checked from the header, before any decoding. */
export const MAX_IMAGE_PIXELS = 16_000_000;
/** Frames above this many pixels (a 1080p camera frame) are downsampled before the QR search. */
export const MAX_DECODE_PIXELS = 1920 * 1088;
/** Longest side accepted, in pixels. */
export const MAX_IMAGE_SIDE = 20_000;

/** Throws QR_IMAGE_INVALID unless width × height is a sane frame size. */
export function checkFrameSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw makeError('QR_IMAGE_INVALID', 'The image has no valid dimensions.');
  }
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE || width * height > MAX_IMAGE_PIXELS) {
    throw makeError(
      'QR_IMAGE_TOO_LARGE',
      `The image is ${width}×${height} pixels, larger than the ${MAX_IMAGE_PIXELS / 1e6} megapixels accepted.`,
      {
        width,
        height,
      },
    );
  }
}
