/**
 * The app's built decoder Worker in a plain page, fed camera-like corpus frames (test/app/decoder-worker-luma.test.ts
 * and `npx tsx bench/qr.bench.ts --worker`): a local HTTP server for the page, decoder.worker.js, the zxing .wasm and
 * each frame as RGBA pixels and as its luminance plane; and the page's script prelude that talks to the Worker and
 * builds an I420 VideoFrame as a camera delivers it (the Y plane, then U and V at quarter size, neutral 128).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { rgbaToLuminance } from '../../qr/decoders.js';
import type { CorpusFrame } from '../../scripts/qr-corpus.js';

/** Page script (inside `<script type="module">`): `ready`, `ask(message, transfer)` and `i420Frame(luma, w, h)`. */
export const DECODER_WORKER_PRELUDE = `
const worker = new Worker('/decoder.worker.js', { type: 'module' });
const ready = new Promise((resolve) => worker.addEventListener('message', (e) => e.data.type === 'ready' && resolve(e.data)));
let nextId = 0;
function ask(message, transfer) {
  return new Promise((resolve) => {
    const onMessage = (event) => {
      if (event.data.id !== message.id) return;
      worker.removeEventListener('message', onMessage);
      resolve(event.data);
    };
    worker.addEventListener('message', onMessage);
    worker.postMessage(message, transfer);
  });
}
async function frameBytes(index) {
  const rgba = new Uint8Array(await (await fetch('/frame/' + index + '.rgba')).arrayBuffer());
  const luma = new Uint8Array(await (await fetch('/frame/' + index + '.luma')).arrayBuffer());
  return { rgba, luma };
}
function i420Frame(luma, width, height) {
  const i420 = new Uint8Array(width * height * 3 / 2).fill(128);
  i420.set(luma);
  return new VideoFrame(i420, { format: 'I420', codedWidth: width, codedHeight: height, timestamp: 0 });
}
`;

export interface DecoderWorkerServer {
  origin: string;
  close(): Promise<void>;
}

/** Serves `page` at /, the built Worker and .wasm from `rendererDir`, and frame i at /frame/i.rgba and /frame/i.luma. */
export async function serveDecoderWorker(
  rendererDir: string,
  frames: CorpusFrame[],
  page: string,
): Promise<DecoderWorkerServer> {
  const files = new Map<string, [string, Uint8Array | string]>([
    ['/', ['text/html', page]],
    ['/decoder.worker.js', ['text/javascript', readFileSync(join(rendererDir, 'decoder.worker.js'))]],
    ['/zxing_reader.wasm', ['application/wasm', readFileSync(join(rendererDir, 'zxing_reader.wasm'))]],
  ]);
  frames.forEach((frame, index) => {
    const data = frame.image.data;
    files.set(`/frame/${index}.rgba`, [
      'application/octet-stream',
      new Uint8Array(data.buffer, data.byteOffset, data.length),
    ]);
    files.set(`/frame/${index}.luma`, ['application/octet-stream', rgbaToLuminance(data)]);
  });
  const server = createServer((request, response) => {
    const route = files.get(request.url ?? '');
    response.writeHead(route ? 200 : 404, { 'content-type': route?.[0] ?? 'text/plain' });
    response.end(route?.[1] ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
