/**
 * The QR decoder Worker: zxing-wasm (through qr/'s decoder API) off the main thread, so the camera view never stalls.
 * The .wasm comes from the app's own origin (CSP: script-src 'wasm-unsafe-eval'; connect-src 'self'), never the network.
 */
import { createZxingDecoder, type QrDecoder } from '../../../../qr/decoders.js';
import type { FromWorker, ToWorker } from './protocol.js';

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

scope.onmessage = (event) => {
  const message = event.data;
  if (message.type !== 'frame') return;
  const started = performance.now();
  void decoder
    .then((d) => d.decode(new Uint8ClampedArray(message.rgba), message.width, message.height))
    .then(
      (texts) =>
        scope.postMessage({ type: 'decoded', id: message.id, texts, millis: performance.now() - started }),
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
