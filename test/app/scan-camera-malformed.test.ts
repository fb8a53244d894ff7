/**
 * The real camera path in headless Chromium: getUserMedia on Chromium's fake capture device, fed a .y4m video made
 * from QR frame PNGs → an I420 VideoFrame → the zxing-wasm decoder Worker (its Y plane) → the UR assembler. A corrupted animated-UR frame is
 * refused with the assembler's code, the camera stops and nothing reaches the appliance.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UrAssembler } from '../../qr/assembler.js';
import { isColdsignError } from '../../core/errors.js';
import { encodeUrParts } from '../../qr/ur.js';
import { renderQrPng } from '../../qr/render.js';
import { APP_PIN, launchApp, unlockWith, removeAppBuild, type AppUnderTest } from './support/app-host.js';
import { writeY4m } from './support/y4m.js';

let app: AppUnderTest;
let dir: string;

/** One frame of an animated UR with one bytewords character changed: its CRC-32 no longer matches (BCR-2020-005). */
function corruptedPart(): string {
  const part = encodeUrParts('bytes', new Uint8Array([0x58, 0x40, ...new Array(64).fill(0x2a)]), 30)[0]!;
  const at = part.length - 12;
  return part.slice(0, at) + (part[at] === 'a' ? 'e' : 'a') + part.slice(at + 1);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'coldsign-camera-'));
  const video = join(dir, 'corrupted.y4m');
  writeY4m(video, [renderQrPng(corruptedPart(), { scale: 6 })], {
    width: 640,
    height: 480,
    framesPerSecond: 10,
    repeat: 5,
  });
  app = await launchApp({ fakeCamera: video });
});
afterAll(async () => {
  await app?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  removeAppBuild();
});

it('refuses a corrupted UR frame read by the camera, stops scanning and stays on the scan screen', async () => {
  const { page } = app;
  await page.locator('#pin').waitFor();
  await unlockWith(page, APP_PIN);
  await page.locator('#camera-button').click();
  const alert = page.locator('.notice.error');
  await alert.waitFor();
  // The same code the assembler gives in Node for that frame (the renderer shows qr/'s verdict, not its own).
  let expected = '';
  try {
    new UrAssembler().receivePart(corruptedPart());
  } catch (error) {
    if (isColdsignError(error)) expected = error.code;
  }
  expect(['UR_INVALID', 'QR_CHECKSUM']).toContain(expected);
  expect(await alert.getAttribute('data-code')).toBe(expected);
  expect(await page.locator('#scan-progress-text').textContent()).toMatch(/rejected/);
  expect(await page.locator('video').count()).toBe(0);
  // Chromium's capture device gives I420 frames: the Worker decoded the camera's Y plane, not canvas RGBA
  expect(await page.locator('body').getAttribute('data-camera-frames')).toBe('y-plane');
  expect(await page.locator('h1').textContent()).toBe('Scan a request');
  await app.screenshot('05-scan-malformed-qr-camera');
});
