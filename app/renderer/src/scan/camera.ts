/**
 * The camera path: getUserMedia → <video> → the current frame transferred to the decoder Worker, one frame in flight
 * at a time (the newest frame wins; a slow decode never queues stale frames). A camera frame in a Y-planar format
 * (WebCodecs VideoFrame: I420, NV12, …) goes as it is and the Worker decodes its luminance plane; otherwise the frame
 * is drawn on a canvas and its RGBA pixels are sent.
 */
import { Y_PLANE_FORMATS, type FromWorker, type ToWorker } from './protocol.js';

export interface CameraScanner {
  video: HTMLVideoElement;
  stop(): void;
}

export interface CameraCallbacks {
  onTexts(texts: string[]): void;
  onError(code: string, message: string): void;
  onReady(description: string): void;
}

export function createDecoderWorker(): Worker {
  return new Worker(new URL('./decoder.worker.js', document.baseURI), { type: 'module', name: 'qr-decoder' });
}

/** The video's current frame when it has a Y plane (closed and null otherwise, or without WebCodecs). */
function yPlanarFrame(video: HTMLVideoElement): VideoFrame | null {
  if (typeof VideoFrame === 'undefined') return null;
  try {
    const frame = new VideoFrame(video);
    if (frame.format && Y_PLANE_FORMATS.has(frame.format)) return frame;
    frame.close();
  } catch {
    // no frame yet, or a source WebCodecs cannot wrap: the canvas path below
  }
  return null;
}

export async function startCamera(callbacks: CameraCallbacks): Promise<CameraScanner> {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: false,
    video: { width: { ideal: 1280 }, height: { ideal: 720 }, facingMode: 'environment' },
  });
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = stream;
  video.className = 'camera';
  video.setAttribute('aria-label', 'Camera view');
  await video.play();

  const worker = createDecoderWorker();
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true })!;
  let stopped = false;
  let busy = false;
  let nextId = 0;

  const grab = () => {
    if (stopped || busy || video.videoWidth === 0) return;
    const videoFrame = yPlanarFrame(video);
    if (videoFrame) {
      busy = true;
      const message: ToWorker = { type: 'video-frame', id: nextId++, frame: videoFrame };
      worker.postMessage(message, [videoFrame]);
      return;
    }
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    context.drawImage(video, 0, 0);
    const frame = context.getImageData(0, 0, canvas.width, canvas.height);
    busy = true;
    const message: ToWorker = {
      type: 'frame',
      id: nextId++,
      width: frame.width,
      height: frame.height,
      rgba: frame.data.buffer,
    };
    worker.postMessage(message, [frame.data.buffer]);
  };
  worker.onmessage = (event: MessageEvent<FromWorker>) => {
    const message = event.data;
    if (message.type === 'ready') {
      callbacks.onReady(`${video.videoWidth}×${video.videoHeight} camera, ${message.decoder} decoder`);
      grab();
      return;
    }
    busy = false;
    // which path the last decoded frame took (y-plane or rgba), kept after the camera stops: for diagnostics
    if (message.type === 'decoded') document.body.dataset.cameraFrames = message.source;
    if (message.type === 'decoded' && message.texts.length > 0) callbacks.onTexts(message.texts);
    if (message.type === 'error') callbacks.onError(message.code, message.message);
    if (message.type === 'error' && message.id < 0) return;
    // Next frame on the next paint: decoding runs as fast as the Worker allows, never faster than the display.
    requestAnimationFrame(grab);
  };

  return {
    video,
    stop() {
      stopped = true;
      worker.terminate();
      for (const track of stream.getTracks()) track.stop();
      video.srcObject = null;
    },
  };
}
