// QR frames: rendering (alphanumeric, EC level L), PNG/JPEG intake by content, hostile images, zxing-wasm and jsqr
// decoding of generated camera-like frames, and an animated PSBT carried end to end through PNG frames.
import { beforeAll, describe, expect, it } from 'vitest';
import jpeg from 'jpeg-js';
import {
  UrAssembler,
  createCompositeDecoder,
  createJsqrDecoder,
  createQrSymbol,
  createZxingDecoder,
  decodeCryptoPsbt,
  decodeImageFile,
  decodeQrImage,
  encodePng,
  psbtToUr,
  renderQrPng,
  renderQrRgba,
  renderQrSvg,
  rgbaToLuminance,
  type QrDecoder,
} from '../../qr/index.js';
import { createNodeQrDecoder, readZxingReaderWasm } from '../../appliance/qr-reader.js';
import { codeOfAsync as codeOf } from './support/errors.js';
import { toHex } from '../../core/bytes.js';
import { DISTORTIONS, renderCameraFrame, samplePart } from '../../scripts/qr-corpus.js';
import { randomBytes } from './support/transfer.js';

let zxing: QrDecoder;
let standard: QrDecoder;
const jsqr = createJsqrDecoder();

beforeAll(async () => {
  zxing = await createZxingDecoder(readZxingReaderWasm());
  standard = await createNodeQrDecoder();
});

describe('rendering', () => {
  const part = samplePart(400, 1);

  it('a 400-byte-fragment UR part is QR version 16, alphanumeric mode, error correction L (M on request)', () => {
    const symbol = createQrSymbol(part.toLowerCase());
    expect(symbol.version).toBe(16);
    expect(symbol.segments.map((s) => s.mode.id)).toEqual(['Alphanumeric']);
    expect(symbol.errorCorrectionLevel.bit).toBe(1); // ISO/IEC 18004 Table 12: L = 01
    expect(createQrSymbol(part, 'M').errorCorrectionLevel.bit).toBe(0); // M = 00
    expect(createQrSymbol('hello world').segments.map((s) => s.mode.id)).not.toContain('Alphanumeric');
  });

  it('PNG and SVG renderings carry the part', async () => {
    const png = renderQrPng(part.toLowerCase(), { scale: 3 });
    expect(toHex(png.subarray(0, 8))).toBe('89504e470d0a1a0a');
    expect(await decodeQrImage(png, zxing)).toEqual([part]);
    const svg = renderQrSvg(part);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 89 89"/);
  });

  it('bad render options and oversized text are clean errors', async () => {
    expect(await codeOf(() => renderQrPng('ur:bytes/aeae', { scale: 0 }))).toBe('USAGE');
    expect(await codeOf(() => renderQrPng('ur:bytes/aeae', { errorCorrection: 'H' as never }))).toBe('USAGE');
    expect(await codeOf(() => renderQrPng('ur:bytes/' + 'ae'.repeat(3000)))).toBe('QR_PAYLOAD_TOO_LARGE');
    expect(await codeOf(() => renderQrPng(''))).toBe('INPUT_EMPTY');
  });
});

describe('image intake (by content, with size caps)', () => {
  const part = samplePart(200, 2);

  it('a JPEG frame is detected and decoded', async () => {
    const rgba = renderQrRgba(part, { scale: 4 });
    const jpg = jpeg.encode(
      { data: Buffer.from(rgba.data.buffer), width: rgba.width, height: rgba.height },
      85,
    ).data;
    const image = decodeImageFile(new Uint8Array(jpg));
    expect([image.width, image.height]).toEqual([rgba.width, rgba.height]);
    expect(await decodeQrImage(new Uint8Array(jpg), standard)).toEqual([part]);
  });

  it('non-images, truncated images and corrupt images are QR_IMAGE_INVALID', async () => {
    const png = renderQrPng(part);
    expect(await codeOf(() => decodeImageFile(new Uint8Array(0)))).toBe('QR_IMAGE_INVALID');
    expect(await codeOf(() => decodeImageFile(new TextEncoder().encode('GIF89a......')))).toBe(
      'QR_IMAGE_INVALID',
    );
    expect(await codeOf(() => decodeImageFile(new TextEncoder().encode('ur:bytes/aeae')))).toBe(
      'QR_IMAGE_INVALID',
    );
    expect(await codeOf(() => decodeImageFile(png.subarray(0, 20)))).toBe('QR_IMAGE_INVALID');
    expect(await codeOf(() => decodeImageFile(png.subarray(0, png.length - 40)))).toBe('QR_IMAGE_INVALID');
    const corrupt = png.slice();
    corrupt.fill(0x42, 60, 200);
    expect(await codeOf(() => decodeImageFile(corrupt))).toBe('QR_IMAGE_INVALID');
    expect(await codeOf(() => decodeImageFile(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0])))).toBe(
      'QR_IMAGE_INVALID',
    );
  });

  it('an image announcing more than 16 megapixels is refused before it is decoded (QR_IMAGE_TOO_LARGE)', async () => {
    const png = renderQrPng(part).slice();
    new DataView(png.buffer).setUint32(16, 10_000); // IHDR width
    new DataView(png.buffer).setUint32(20, 10_000); // IHDR height: 100 MP
    const error = await codeOf(() => decodeImageFile(png));
    expect(error).toBe('QR_IMAGE_TOO_LARGE');
    // 6300 × 6300 (39.7 MP) is over the budget too
    new DataView(png.buffer).setUint32(16, 6_300);
    new DataView(png.buffer).setUint32(20, 6_300);
    expect(await codeOf(() => decodeImageFile(png))).toBe('QR_IMAGE_TOO_LARGE');
    // JPEG: SOF0 announcing 65000 × 65000.
    const sof = new Uint8Array([
      0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0xfd, 0xe8, 0xfd, 0xe8, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11,
      1, 0xff, 0xd9,
    ]);
    expect(await codeOf(() => decodeImageFile(sof))).toBe('QR_IMAGE_TOO_LARGE');
  });

  it('an image without a QR code is QR_UNREADABLE; a frame of the wrong size is QR_IMAGE_INVALID', async () => {
    const blank = encodePng({ width: 64, height: 64, data: new Uint8ClampedArray(64 * 64 * 4).fill(255) });
    expect(await codeOf(() => decodeQrImage(blank, standard))).toBe('QR_UNREADABLE');
    expect(await codeOf(() => zxing.decode(new Uint8ClampedArray(10), 64, 64))).toBe('QR_IMAGE_INVALID');
    expect(await codeOf(() => jsqr.decode(new Uint8ClampedArray(0), 0, 0))).toBe('QR_IMAGE_INVALID');
  });

  it('zxing-wasm loads from the given bytes and never fetches anything (fetch replaced by a recorder)', async () => {
    const original = globalThis.fetch;
    const fetched: string[] = [];
    globalThis.fetch = (async (input: unknown) => {
      fetched.push(String(input));
      throw new Error('network access attempted');
    }) as typeof fetch;
    try {
      const decoder = await createZxingDecoder(readZxingReaderWasm());
      const frame = renderQrRgba(part);
      expect(await decoder.decode(frame.data, frame.width, frame.height)).toEqual([part]);
    } finally {
      globalThis.fetch = original;
    }
    expect(fetched).toEqual([]);
  });

  it('zxing-wasm refuses a .wasm that is not the installed reader', async () => {
    const wasm = readZxingReaderWasm().slice();
    wasm[wasm.length - 1] = wasm[wasm.length - 1]! ^ 1;
    expect(await codeOf(() => createZxingDecoder(wasm))).toBe('QR_DECODER_INVALID');
  });
});

describe('camera-like frames (small generated corpus, 640×480, QR version 16)', () => {
  const part = samplePart(400, 1);
  const frames = DISTORTIONS.map((d) => ({ name: d.name, image: renderCameraFrame(part, 640, 480, d, 1) }));

  it('zxing-wasm reads the clean, noisy, rotated, small, tilted and low-contrast frames', async () => {
    const read: string[] = [];
    for (const { name, image } of frames) {
      const texts = await zxing.decode(image.data, image.width, image.height);
      // Never a wrong answer: either nothing or the exact part.
      expect(texts.every((t) => t === part)).toBe(true);
      if (texts.length > 0) read.push(name);
    }
    expect(read).toEqual(
      expect.arrayContaining(['clean', 'noise', 'rotation', 'scale', 'perspective', 'low-contrast']),
    );
  });

  it('jsqr reads the clean frame and never returns a wrong text', async () => {
    const read: string[] = [];
    for (const { name, image } of frames.filter((f) =>
      ['clean', 'rotation', 'low-contrast', 'blur'].includes(f.name),
    )) {
      const texts = await jsqr.decode(image.data, image.width, image.height);
      expect(texts.every((t) => t === part)).toBe(true);
      if (texts.length > 0) read.push(name);
    }
    expect(read).toContain('clean');
  });

  it('the composite falls back to jsqr when the first decoder finds nothing (first decoder stubbed empty)', async () => {
    const empty: QrDecoder = { name: 'empty-stub', decode: async () => [] };
    const clean = frames[0]!.image;
    const composite = createCompositeDecoder([empty, jsqr]);
    expect(composite.name).toBe('empty-stub+jsqr');
    expect(await composite.decode(clean.data, clean.width, clean.height)).toEqual([part]);
  });

  it('zxing-wasm reads a luminance plane (as a camera Y plane) exactly as it reads the RGBA frame', async () => {
    let read = 0;
    for (const { image } of frames) {
      const luma = rgbaToLuminance(image.data);
      expect(luma.length).toBe(image.width * image.height);
      const fromRgba = await zxing.decode(image.data, image.width, image.height);
      const fromLuma = await zxing.decodeLuminance!(luma, image.width, image.height);
      expect(fromLuma).toEqual(fromRgba);
      read += fromLuma.length;
    }
    expect(read).toBeGreaterThanOrEqual(6);
  });

  it('the composite reads a luminance plane, falling back to jsqr on grey RGBA; a plane of the wrong size is QR_IMAGE_INVALID', async () => {
    const clean = frames[0]!.image;
    const luma = rgbaToLuminance(clean.data);
    const empty: QrDecoder = { name: 'empty-stub', decode: async () => [] };
    expect(
      await createCompositeDecoder([empty, jsqr]).decodeLuminance!(luma, clean.width, clean.height),
    ).toEqual([part]);
    expect(await standard.decodeLuminance!(luma, clean.width, clean.height)).toEqual([part]);
    expect(await codeOf(() => zxing.decodeLuminance!(luma.subarray(1), clean.width, clean.height))).toBe(
      'QR_IMAGE_INVALID',
    );
  });
});

describe('animated PSBT end to end through image frames', () => {
  it('a 3 KB PSBT as PNG and JPEG frames, shuffled with repeats, reassembles exactly', async () => {
    const psbt = randomBytes(3000, 11);
    const parts = psbtToUr(psbt, 400);
    expect(parts.length).toBe(8);
    const files = parts.map((p, i) => {
      if (i % 2 === 0) return renderQrPng(p);
      const rgba = renderQrRgba(p, { scale: 3 });
      return new Uint8Array(
        jpeg.encode({ data: Buffer.from(rgba.data.buffer), width: rgba.width, height: rgba.height }, 90).data,
      );
    });
    const order = [5, 2, 7, 0, 2, 4, 1, 6, 3];
    const assembler = new UrAssembler();
    for (const index of order) {
      for (const text of await decodeQrImage(files[index]!, standard)) assembler.receivePart(text);
    }
    expect(toHex(decodeCryptoPsbt(assembler.result()))).toBe(toHex(psbt));
  });
});
