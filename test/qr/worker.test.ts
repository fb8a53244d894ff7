// The renderer design, for real: a module Web Worker in headless Chromium compiles zxing-wasm's reader from the page's own
// origin (standing in for the app's protocol), decodes RGBA frames and reassembles the UR. No other origin is reached.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { psbtCbor, psbtToUr, renderQrRgba } from '../../qr/index.js';
import { readZxingReaderWasm } from '../../appliance/qr-reader.js';
import { toHex } from '../../core/bytes.js';
import { randomBytes } from './support/transfer.js';
import { HANG_GUARD_MS } from '../support/hang-guard.js';

const HERE = fileURLToPath(new URL('./worker/', import.meta.url));
const PAGE = `<!doctype html><meta charset="utf-8"><script type="module">
const worker = new Worker('/worker.js', { type: 'module' });
window.decodeFrame = (frame) => new Promise((resolve) => {
  worker.onmessage = (event) => resolve(event.data);
  worker.onerror = (event) => resolve({ error: 'worker failed: ' + event.message });
  const bytes = Uint8Array.from(atob(frame.base64), (c) => c.charCodeAt(0));
  worker.postMessage({ width: frame.width, height: frame.height, data: new Uint8ClampedArray(bytes.buffer) });
});
window.ready = true;
</script>`;

let server: Server;
let browser: Browser;
let page: Page;
let origin = '';
const served: string[] = [];
const foreign: string[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [`${HERE}camera-worker.ts`],
    inject: [`${HERE}node-globals.ts`],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  const workerJs = bundle.outputFiles[0]!.contents;
  const wasm = readZxingReaderWasm();
  server = createServer((request, response) => {
    served.push(request.url ?? '');
    const routes: Record<string, [string, Uint8Array | string]> = {
      '/': ['text/html', PAGE],
      '/worker.js': ['text/javascript', workerJs],
      '/zxing_reader.wasm': ['application/wasm', wasm],
    };
    const route = routes[request.url ?? ''];
    response.writeHead(route ? 200 : 404, { 'content-type': route?.[0] ?? 'text/plain' });
    response.end(route?.[1] ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox'],
    timeout: HANG_GUARD_MS,
  });
  const context = await browser.newContext();
  // Every request outside the page's origin is recorded and refused.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(`${origin}/`)) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  context.setDefaultTimeout(HANG_GUARD_MS);
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

describe('camera Worker in Chromium (zxing-wasm compiled from the app origin)', () => {
  it('decodes the frames of an animated crypto-psbt and reassembles it, reaching no other origin', async () => {
    const psbt = randomBytes(1500, 31);
    const parts = psbtToUr(psbt, 400);
    expect(parts).toHaveLength(4);
    let last: { progress?: number; type?: string; cbor?: number[]; error?: string } = {};
    for (const index of [2, 0, 2, 3, 1]) {
      const frame = renderQrRgba(parts[index]!, { scale: 2 });
      last = await page.evaluate(
        (f) => (window as unknown as { decodeFrame(f: unknown): Promise<typeof last> }).decodeFrame(f),
        {
          width: frame.width,
          height: frame.height,
          base64: Buffer.from(frame.data.buffer).toString('base64'),
        },
      );
      expect(last.error).toBeUndefined();
    }
    expect(last.progress).toBe(1);
    expect(last.type).toBe('crypto-psbt');
    expect(toHex(new Uint8Array(last.cbor!))).toBe(toHex(psbtCbor(psbt)));
    expect(served.filter((url) => url === '/zxing_reader.wasm')).toHaveLength(1);
    expect(foreign).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
