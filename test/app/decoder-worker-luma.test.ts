/**
 * The app's own decoder Worker (the built decoder.worker.js and zxing .wasm) in headless Chromium: a camera frame
 * handed over as a Y-planar WebCodecs VideoFrame (I420, whose Y plane is decoded as luminance) reads the same QR
 * texts as the same picture handed over as RGBA canvas pixels (zxing-wasm's own conversion), on camera-like corpus
 * frames at 720p. The I420 frames are built in the page from the RGBA pixels (BT.601 luma, neutral chroma), as a
 * camera would deliver them; a VideoFrame without a Y plane is refused with QR_IMAGE_INVALID.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { rgbaToLuminance } from '../../qr/decoders.js';
import { DEFAULT_FRAGMENT_BYTES } from '../../qr/ur-parts.js';
import { DISTORTIONS, generateCorpus, type CorpusFrame } from '../../scripts/qr-corpus.js';
import { HANG_GUARD_MS } from '../support/hang-guard.js';
import { buildAppOnce, CHROMIUM, removeAppBuild } from './support/app-host.js';

const PAGE = `<!doctype html><meta charset="utf-8"><script type="module">
const worker = new Worker('/decoder.worker.js', { type: 'module' });
const ready = new Promise((resolve) => worker.addEventListener('message', (e) => e.data.type === 'ready' && resolve(e.data), { once: false }));
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
window.decodeBoth = async (index, width, height) => {
  await ready;
  const rgba = new Uint8Array(await (await fetch('/frame/' + index + '.rgba')).arrayBuffer());
  const luma = new Uint8Array(await (await fetch('/frame/' + index + '.luma')).arrayBuffer());
  const asRgba = await ask({ type: 'frame', id: nextId++, width, height, rgba: rgba.slice().buffer }, []);
  // I420: the Y plane, then U and V at quarter size, neutral (128) like a grey picture
  const i420 = new Uint8Array(width * height * 3 / 2).fill(128);
  i420.set(luma);
  const yuv = new VideoFrame(i420, { format: 'I420', codedWidth: width, codedHeight: height, timestamp: 0 });
  const format = yuv.format;
  const asYPlane = await ask({ type: 'video-frame', id: nextId++, frame: yuv }, [yuv]);
  const noY = new VideoFrame(rgba, { format: 'RGBA', codedWidth: width, codedHeight: height, timestamp: 0 });
  const asNoY = await ask({ type: 'video-frame', id: nextId++, frame: noY }, [noY]);
  return { asRgba, asYPlane, asNoY, format };
};
window.loaded = true;
</script>`;

let server: Server;
let browser: Browser;
let page: Page;
const frames: CorpusFrame[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  const build = buildAppOnce();
  frames.push(
    ...generateCorpus({
      seeds: 1,
      resolutions: [{ name: '1280x720', width: 1280, height: 720 }],
      fragmentSizes: [DEFAULT_FRAGMENT_BYTES],
      distortions: DISTORTIONS,
    }),
  );
  const files: Record<string, [string, Uint8Array | string]> = {
    '/': ['text/html', PAGE],
    '/decoder.worker.js': ['text/javascript', readFileSync(join(build.rendererDir, 'decoder.worker.js'))],
    '/zxing_reader.wasm': ['application/wasm', readFileSync(join(build.rendererDir, 'zxing_reader.wasm'))],
  };
  frames.forEach((frame, index) => {
    const rgba = new Uint8Array(
      frame.image.data.buffer,
      frame.image.data.byteOffset,
      frame.image.data.length,
    );
    files[`/frame/${index}.rgba`] = ['application/octet-stream', rgba];
    files[`/frame/${index}.luma`] = ['application/octet-stream', rgbaToLuminance(frame.image.data)];
  });
  server = createServer((request, response) => {
    const route = files[request.url ?? ''];
    response.writeHead(route ? 200 : 404, { 'content-type': route?.[0] ?? 'text/plain' });
    response.end(route?.[1] ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox'],
    timeout: HANG_GUARD_MS,
  });
  const context = await browser.newContext();
  context.setDefaultTimeout(HANG_GUARD_MS);
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => (window as unknown as { loaded?: boolean }).loaded === true);
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  removeAppBuild();
});

interface Answer {
  type: string;
  texts?: string[];
  source?: string;
  code?: string;
}

describe('decoder Worker: camera Y plane vs RGBA pixels', () => {
  it('reads the same texts from an I420 VideoFrame as from RGBA, on every corpus distortion at 720p', async () => {
    const read: string[] = [];
    for (const [index, frame] of frames.entries()) {
      const { asRgba, asYPlane, asNoY, format } = await page.evaluate(
        ([i, w, h]) =>
          (
            window as unknown as {
              decodeBoth(
                i: number,
                w: number,
                h: number,
              ): Promise<{
                asRgba: Answer;
                asYPlane: Answer;
                asNoY: Answer;
                format: string;
              }>;
            }
          ).decodeBoth(i, w, h),
        [index, frame.image.width, frame.image.height] as const,
      );
      expect(format).toBe('I420');
      expect(asRgba).toMatchObject({ type: 'decoded', source: 'rgba' });
      expect(asYPlane, frame.distortion).toMatchObject({ type: 'decoded', source: 'y-plane' });
      expect(asYPlane.texts, frame.distortion).toEqual(asRgba.texts);
      expect(asNoY).toMatchObject({ type: 'error', code: 'QR_IMAGE_INVALID' });
      if (asYPlane.texts!.includes(frame.text)) read.push(frame.distortion);
    }
    expect(frames).toHaveLength(DISTORTIONS.length);
    // the texts are the frames' own, not merely equal: at least the undistorted frame is read through the Y plane
    expect(read).toContain('clean');
    expect(pageErrors).toEqual([]);
  });
});
