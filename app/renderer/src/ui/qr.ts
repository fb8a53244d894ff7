/** QR codes on screen: a still code (addresses, descriptors) and an animated UR with adjustable speed and density. */
import QRCode from 'qrcode';
import { h } from './dom.js';

/** URs are shown upper-case (QR alphanumeric mode; BCR-2020-005 URs are case-insensitive); other text as it is. */
export function qrText(text: string): string {
  return /^ur:/i.test(text) ? text.toUpperCase() : text;
}

/** Draws one QR code onto a canvas (black on white, quiet zone of 4 modules as ISO/IEC 18004 asks). */
export async function drawQr(canvas: HTMLCanvasElement, text: string, size: number): Promise<void> {
  await QRCode.toCanvas(canvas, qrText(text), {
    errorCorrectionLevel: 'L',
    margin: 4,
    width: size,
    color: { dark: '#000000', light: '#ffffff' },
  });
}

/** A still QR code of `text`, with its text underneath for checking by eye. */
export function stillQr(text: string, caption: string, size = 360): HTMLElement {
  const canvas = h('canvas', {
    className: 'qr',
    role: 'img',
    'aria-label': `QR code: ${caption}`,
    'data-qr-text': text,
  });
  void drawQr(canvas, text, size);
  return h(
    'figure',
    { className: 'qr-figure' },
    canvas,
    h('figcaption', {}, h('span', { className: 'caption' }, caption), h('code', { className: 'wrap' }, text)),
  );
}

export interface AnimatedQr {
  element: HTMLElement;
  setParts(parts: string[]): void;
  setFramesPerSecond(fps: number): void;
  stop(): void;
}

/** Cycles through UR parts on one canvas at `fps` frames per second (a single part is shown still). */
export function animatedQr(initialParts: string[], fps: number, size = 560): AnimatedQr {
  const canvas = h('canvas', {
    className: 'qr',
    role: 'img',
    'aria-label': 'Animated QR code of the signed output',
  });
  const counter = h('p', { className: 'frame-counter', 'aria-live': 'off' });
  let parts = initialParts;
  let index = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  let interval = 1000 / fps;

  const show = () => {
    const part = parts[index % parts.length]!;
    canvas.dataset.part = part;
    counter.textContent =
      parts.length > 1 ? `Frame ${(index % parts.length) + 1} of ${parts.length} (repeats)` : 'Single frame';
    void drawQr(canvas, part, size);
    index += 1;
  };
  const restart = () => {
    if (timer) clearInterval(timer);
    show();
    if (parts.length > 1) timer = setInterval(show, interval);
  };
  restart();
  return {
    element: h('div', { className: 'animated-qr' }, canvas, counter),
    setParts(next) {
      parts = next;
      index = 0;
      restart();
    },
    setFramesPerSecond(next) {
      interval = 1000 / next;
      restart();
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}
