/**
 * The QR decoder Worker: zxing-wasm (through qr/'s decoder API) off the main thread, so the camera view never stalls.
 * The .wasm comes from the app's own origin (CSP: script-src 'wasm-unsafe-eval'; connect-src 'self'), never the network.
 * A camera VideoFrame with a Y plane is decoded from that plane (decodeLuminance); RGBA pixels go to zxing-wasm as
 * they are, since its own RGBA → luminance loop costs what ours would (docs/bench/qr.md).
 */
import { createZxingDecoder, type QrDecoder } from '../../../../qr/decoders.js';
import type { FrameSource, FromWorker, ToWorker } from './protocol.js';
import { copyYPlane } from './y-plane.js';

const scope = self as unknown as {
  postMessage(message: FromWorker): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
};

async function loadDecoder(): Promise<QrDecoder> {
  const module = await WebAssembly.compileStreaming(
    fetch(new URL('./zxing_reader.wasm', self.location.href)),
  );
  return createZxingDecoder(module, { tryHarder: false });
}

const decoder = loadDecoder();
void decoder.then(
  (d) => scope.postMessage({ type: 'ready', decoder: d.name }),
  () =>
    scope.postMessage({
      type: 'error',
      id: -1,
      code: 'QR_DECODER_INVALID',
      message: 'The QR decoder could not be loaded.',
    }),
);

async function decodeMessage(
  d: QrDecoder,
  message: ToWorker,
): Promise<{ texts: string[]; source: FrameSource }> {
  if (message.type === 'frame') {
    return {
      texts: await d.decode(new Uint8ClampedArray(message.rgba), message.width, message.height),
      source: 'rgba',
    };
  }
  try {
    const plane = await copyYPlane(message.frame);
    if (!plane || !d.decodeLuminance)
      throw Object.assign(new Error('no Y plane'), { code: 'QR_IMAGE_INVALID' });
    return { texts: await d.decodeLuminance(plane.luma, plane.width, plane.height), source: 'y-plane' };
  } finally {
    message.frame.close();
  }
}

scope.onmessage = (event) => {
  const message = event.data;
  if (message.type !== 'frame' && message.type !== 'video-frame') return;
  const started = performance.now();
  void decoder
    .then((d) => decodeMessage(d, message))
    .then(
      ({ texts, source }) =>
        scope.postMessage({
          type: 'decoded',
          id: message.id,
          texts,
          millis: performance.now() - started,
          source,
        }),
      (error: unknown) => {
        const code = (error as { code?: string }).code ?? 'QR_UNREADABLE';
        scope.postMessage({
          type: 'error',
          id: message.id,
          code,
          message: 'The camera frame could not be decoded.',
        });
      },
    );
};
