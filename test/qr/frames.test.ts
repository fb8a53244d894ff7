// The CLI-facing ends: UR parts → frame-NNNN.png files, image files → one reassembled UR, routed by declared type.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  encodePng,
  encodeUrParts,
  ethSignatureToUr,
  frameFileName,
  interpretUr,
  psbtToUr,
  psbtCbor,
  readUrFromImages,
  renderUrFrames,
  assembleUr,
  type QrDecoder,
} from '../../qr/index.js';
import { createNodeQrDecoder } from '../../appliance/qr-reader.js';
import { concatBytes, toHex } from '../../core/bytes.js';
import { codeOf, codeOfAsync } from './support/errors.js';
import { randomBytes } from './support/transfer.js';

let decoder: QrDecoder;
beforeAll(async () => {
  decoder = await createNodeQrDecoder();
});

describe('frames out and back in', () => {
  const psbt = randomBytes(1500, 21);
  const frames = renderUrFrames(psbtToUr(psbt, 400));

  it('names frames frame-0001.png, frame-0002.png, …', () => {
    expect(frames.map((f) => f.name)).toEqual([
      'frame-0001.png',
      'frame-0002.png',
      'frame-0003.png',
      'frame-0004.png',
    ]);
    expect(frameFileName(9999)).toBe('frame-10000.png');
    expect(codeOf(() => renderUrFrames([]))).toBe('INPUT_EMPTY');
  });

  it('image files in any order with a repeat give back the PSBT, with progress reported', async () => {
    const progress: number[] = [];
    const images = [3, 1, 1, 0, 2].map((i) => ({ label: frames[i]!.name, bytes: frames[i]!.png }));
    const payload = interpretUr(await readUrFromImages(images, decoder, (p) => progress.push(p)));
    expect(payload.kind).toBe('psbt');
    expect(payload.kind === 'psbt' && toHex(payload.psbt)).toBe(toHex(psbt));
    expect(progress.at(-1)).toBe(1);
    expect(progress[0]).toBeLessThan(1);
  });

  it('a missing frame is QR_INCOMPLETE; a non-image or an image without a QR code names the file', async () => {
    const some = frames.slice(1).map((f) => ({ label: f.name, bytes: f.png }));
    expect(await codeOfAsync(() => readUrFromImages(some, decoder))).toBe('QR_INCOMPLETE');
    const text = { label: 'notes.png', bytes: new TextEncoder().encode('ur:bytes/aeae') };
    await expect(readUrFromImages([text], decoder)).rejects.toThrow(
      /^notes\.png: The file is neither a PNG nor a JPEG image\.$/,
    );
    const blank = {
      label: 'white.png',
      bytes: encodePng({ width: 32, height: 32, data: new Uint8ClampedArray(32 * 32 * 4).fill(255) }),
    };
    expect(await codeOfAsync(() => readUrFromImages([blank], decoder))).toBe('QR_UNREADABLE');
    expect(await codeOfAsync(() => readUrFromImages([], decoder))).toBe('INPUT_EMPTY');
  });
});

describe('interpretUr routes by declared type', () => {
  it('psbt (the newer type name) reads like crypto-psbt', () => {
    const psbt = randomBytes(120, 3);
    const cbor = assembleUr(psbtToUr(psbt)).cbor;
    expect(toHex(psbtCbor(psbt))).toBe(toHex(cbor));
    expect(psbtToUr(psbt, 400, 'psbt')).toEqual(encodeUrParts('psbt', cbor));
    const payload = interpretUr(assembleUr(encodeUrParts('psbt', cbor)));
    expect(payload).toMatchObject({ kind: 'psbt', type: 'psbt' });
    expect(payload.kind === 'psbt' && toHex(payload.psbt)).toBe(toHex(psbt));
  });

  it('eth-signature and bytes are recognised; a malformed psbt payload is UR_INVALID', () => {
    const signature = randomBytes(65, 4);
    const sig = interpretUr(assembleUr(ethSignatureToUr(randomBytes(16, 5), signature, 'coldsign')));
    expect(sig).toMatchObject({ kind: 'eth-signature', origin: 'coldsign' });
    expect(interpretUr(assembleUr(encodeUrParts('bytes', new Uint8Array([0x41, 0x00])))).kind).toBe('bytes');
    expect(
      codeOf(() =>
        interpretUr({
          type: 'crypto-psbt',
          cbor: concatBytes(new Uint8Array([0x41, 0x00]), new Uint8Array([1])),
        }),
      ),
    ).toBe('UR_INVALID');
    expect(codeOf(() => interpretUr({ type: 'crypto-seed' as never, cbor: new Uint8Array([0x41, 0]) }))).toBe(
      'QR_UNSUPPORTED_TYPE',
    );
  });
});
