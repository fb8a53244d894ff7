/**
 * The luminance (Y) plane of a camera VideoFrame (WebCodecs), copied out row by row: zxing reads it as it is, so
 * neither the canvas read-back nor the RGBA → luminance conversion (about half of a decode) is paid.
 */
import { Y_PLANE_FORMATS } from './protocol.js';

export interface LuminancePlane {
  luma: Uint8Array;
  width: number;
  height: number;
}

/** The visible Y plane of `frame`, or null when its format has none (RGBA, BGRA, or a GPU frame without a format). */
export async function copyYPlane(frame: VideoFrame): Promise<LuminancePlane | null> {
  if (!frame.format || !Y_PLANE_FORMATS.has(frame.format)) return null;
  const rect = frame.visibleRect;
  if (!rect) return null;
  const { width, height } = rect;
  const all = new Uint8Array(frame.allocationSize({ rect }));
  const [plane] = await frame.copyTo(all, { rect });
  if (!plane) return null;
  if (plane.stride === width)
    return { luma: all.subarray(plane.offset, plane.offset + width * height), width, height };
  const luma = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const start = plane.offset + y * plane.stride;
    luma.set(all.subarray(start, start + width), y * width);
  }
  return { luma, width, height };
}
