/**
 * A YUV4MPEG2 (.y4m) video made from QR frame PNGs, for Chromium's fake camera
 * (--use-file-for-fake-video-capture). Format: a text header, then per frame "FRAME\n" and raw planar 4:2:0 YUV
 * (Y full size, then U and V at half width and height), BT.601 full-range colours ("C420jpeg").
 */
import { openSync, writeSync, closeSync } from 'node:fs';
import pngjs from 'pngjs';

export interface Y4mOptions {
  width: number;
  height: number;
  framesPerSecond: number;
  /** Video frames each QR frame is shown for (the QR animation rate is framesPerSecond / repeat). */
  repeat: number;
  /** Fraction of the frame height the QR image (with its quiet zone) takes. */
  fill?: number;
}

/** Decodes a PNG and draws it, scaled (nearest neighbour) and centred, on a white width×height RGB canvas → YUV 4:2:0. */
export function pngToYuv420(png: Uint8Array, width: number, height: number, fill = 0.9): Uint8Array {
  const image = pngjs.PNG.sync.read(Buffer.from(png));
  const side = Math.floor(Math.min(width, height) * fill);
  const left = Math.floor((width - side) / 2);
  const top = Math.floor((height - side) / 2);
  const rgb = new Uint8Array(width * height * 3).fill(255);
  for (let y = 0; y < side; y++) {
    const sy = Math.floor((y * image.height) / side);
    for (let x = 0; x < side; x++) {
      const sx = Math.floor((x * image.width) / side);
      const s = (sy * image.width + sx) * 4;
      const d = ((top + y) * width + left + x) * 3;
      const alpha = image.data[s + 3]! / 255;
      for (let c = 0; c < 3; c++) rgb[d + c] = Math.round(image.data[s + c]! * alpha + 255 * (1 - alpha));
    }
  }
  return rgbToYuv420(rgb, width, height);
}

/** BT.601 full-range RGB → planar YUV 4:2:0 (chroma averaged over each 2×2 block). */
export function rgbToYuv420(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const chromaWidth = width / 2;
  const chromaHeight = height / 2;
  const out = new Uint8Array(width * height + 2 * chromaWidth * chromaHeight);
  const uOffset = width * height;
  const vOffset = uOffset + chromaWidth * chromaHeight;
  for (let i = 0; i < width * height; i++) {
    const r = rgb[i * 3]!,
      g = rgb[i * 3 + 1]!,
      b = rgb[i * 3 + 2]!;
    out[i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
  }
  for (let cy = 0; cy < chromaHeight; cy++) {
    for (let cx = 0; cx < chromaWidth; cx++) {
      let r = 0,
        g = 0,
        b = 0;
      for (const [dx, dy] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ] as const) {
        const p = ((cy * 2 + dy) * width + cx * 2 + dx) * 3;
        r += rgb[p]!;
        g += rgb[p + 1]!;
        b += rgb[p + 2]!;
      }
      r /= 4;
      g /= 4;
      b /= 4;
      const c = cy * chromaWidth + cx;
      out[uOffset + c] = Math.max(0, Math.min(255, Math.round(-0.168736 * r - 0.331264 * g + 0.5 * b + 128)));
      out[vOffset + c] = Math.max(0, Math.min(255, Math.round(0.5 * r - 0.418688 * g - 0.081312 * b + 128)));
    }
  }
  return out;
}

/** Writes the .y4m file: every PNG shown for `repeat` video frames, in order (Chromium loops the file). */
export function writeY4m(path: string, pngs: Uint8Array[], options: Y4mOptions): void {
  if (options.width % 2 !== 0 || options.height % 2 !== 0)
    throw new Error('4:2:0 video needs an even width and height.');
  const fd = openSync(path, 'w');
  try {
    writeSync(
      fd,
      `YUV4MPEG2 W${options.width} H${options.height} F${options.framesPerSecond}:1 Ip A1:1 C420jpeg\n`,
    );
    for (const png of pngs) {
      const frame = pngToYuv420(png, options.width, options.height, options.fill);
      for (let i = 0; i < options.repeat; i++) {
        writeSync(fd, 'FRAME\n');
        writeSync(fd, frame);
      }
    }
  } finally {
    closeSync(fd);
  }
}
