/** Messages between the scan screen and the decoder Worker. Frames are transferred (not copied) to the Worker. */
export type ToWorker = { type: 'frame'; id: number; width: number; height: number; rgba: ArrayBuffer };

export type FromWorker =
  | { type: 'ready'; decoder: string }
  | { type: 'decoded'; id: number; texts: string[]; millis: number }
  | { type: 'error'; id: number; code: string; message: string };
