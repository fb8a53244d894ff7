/**
 * Messages between the scan screen and the decoder Worker. Frames are transferred (not copied) to the Worker: a
 * camera VideoFrame in a Y-planar format (its luminance plane goes to zxing as it is), or RGBA canvas pixels.
 */
export type ToWorker =
  | { type: 'frame'; id: number; width: number; height: number; rgba: ArrayBuffer }
  | { type: 'video-frame'; id: number; frame: VideoFrame };

/** Where the decoded luminance came from: the camera's Y plane, or RGBA converted by zxing-wasm. */
export type FrameSource = 'y-plane' | 'rgba';

export type FromWorker =
  | { type: 'ready'; decoder: string }
  | { type: 'decoded'; id: number; texts: string[]; millis: number; source: FrameSource }
  | { type: 'error'; id: number; code: string; message: string };

/** VideoFrame pixel formats whose first plane is full-resolution 8-bit luminance (Y), as cameras deliver them. */
export const Y_PLANE_FORMATS: ReadonlySet<string> = new Set([
  'I420',
  'I420A',
  'I422',
  'I422A',
  'I444',
  'I444A',
  'NV12',
]);
