/**
 * The app's own decoder Worker (the built decoder.worker.js and zxing .wasm) in headless Chromium: a camera frame
 * handed over as a Y-planar WebCodecs VideoFrame (I420, whose Y plane is decoded as luminance) reads the same QR
 * texts as the same picture handed over as RGBA canvas pixels (zxing-wasm's own conversion), on camera-like corpus
 * frames at 720p. The I420 frames are built in the page from the RGBA pixels (BT.601 luma, neutral chroma), as a
 * camera would deliver them; a VideoFrame without a Y plane is refused with QR_IMAGE_INVALID.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DEFAULT_FRAGMENT_BYTES } from '../../qr/ur-parts.js';
import { DISTORTIONS, generateCorpus, type CorpusFrame } from '../../scripts/qr-corpus.js';
import {
  DECODER_WORKER_PRELUDE,
  serveDecoderWorker,
  type DecoderWorkerServer,
} from '../support/decoder-worker-page.js';
import { HANG_GUARD_MS } from '../support/hang-guard.js';
import { buildAppOnce, CHROMIUM, removeAppBuild } from './support/app-host.js';

const PAGE = `<!doctype html><meta charset="utf-8"><script type="module">${DECODER_WORKER_PRELUDE}
window.decodeBoth = async (index, width, height) => {
  await ready;
  const { rgba, luma } = await frameBytes(index);
  const asRgba = await ask({ type: 'frame', id: nextId++, width, height, rgba: rgba.slice().buffer }, []);
  const yuv = i420Frame(luma, width, height);
  const format = yuv.format;
  const asYPlane = await ask({ type: 'video-frame', id: nextId++, frame: yuv }, [yuv]);
  const noY = new VideoFrame(rgba, { format: 'RGBA', codedWidth: width, codedHeight: height, timestamp: 0 });
  const asNoY = await ask({ type: 'video-frame', id: nextId++, frame: noY }, [noY]);
  return { asRgba, asYPlane, asNoY, format };
};
window.loaded = true;
</script>`;

let server: DecoderWorkerServer | undefined;
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
  server = await serveDecoderWorker(build.rendererDir, frames, PAGE);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox'],
    timeout: HANG_GUARD_MS,
  });
  const context = await browser.newContext();
  context.setDefaultTimeout(HANG_GUARD_MS);
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${server.origin}/`);
  await page.waitForFunction(() => (window as unknown as { loaded?: boolean }).loaded === true);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
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
