/**
 * coldsign never writes an animated UR it would refuse to read: more than MAX_FRAGMENTS frames is refused at encode
 * time (QR_OUTPUT_TOO_LARGE, "carry it as a file"), with the frame count computed as the fountain encoder splits the
 * message (BCR-2020-005).
 */
import { describe, expect, it } from 'vitest';
import {
  assembleUr,
  checkFitsAnimatedQr,
  createUrFountain,
  encodeUrParts,
  MAX_FRAGMENTS,
  psbtToUr,
  urFragmentCount,
} from '../../qr/index.js';
import { DEFAULT_FRAGMENT_BYTES, MAX_FRAGMENT_BYTES, MIN_FRAGMENT_BYTES } from '../../qr/ur-parts.js';
import { errorOf } from './support/errors.js';
import { randomBytes } from './support/transfer.js';

describe('animated UR output cap', () => {
  it('urFragmentCount gives the fountain encoder’s own fragment count', () => {
    const payload = randomBytes(4000, 7);
    for (const length of [1, 9, 10, 11, 699, 700, 701, 1399, 1401, 2999, 4000]) {
      for (const fragment of [MIN_FRAGMENT_BYTES, 17, 100, 400, DEFAULT_FRAGMENT_BYTES, MAX_FRAGMENT_BYTES]) {
        const expected = createUrFountain('bytes', payload.subarray(0, length), fragment).fragmentCount;
        expect(urFragmentCount(length, fragment), `${length} bytes at ${fragment}`).toBe(expected);
      }
    }
  });

  it(`${MAX_FRAGMENTS} frames are written and read back; one byte more is refused before encoding`, () => {
    const fits = randomBytes(MAX_FRAGMENTS * 100, 8);
    const parts = encodeUrParts('bytes', fits, 100);
    expect(parts).toHaveLength(MAX_FRAGMENTS);
    expect(assembleUr(parts).cbor).toEqual(fits);

    const error = errorOf(() => encodeUrParts('bytes', randomBytes(MAX_FRAGMENTS * 100 + 1, 9), 100));
    expect(error?.code).toBe('QR_OUTPUT_TOO_LARGE');
    expect(error?.exitCode).toBe(3);
    expect(error?.message).toMatch(
      /257 frames of 100 bytes, more than the 256 .*carry it as a file instead\.$/,
    );
    expect(error?.info).toMatchObject({ fragments: MAX_FRAGMENTS + 1, maxFragments: MAX_FRAGMENTS });
  });

  it('at the default fragment size the cap is 179,200 bytes of CBOR (a PSBT of up to 179,195 bytes)', () => {
    expect(MAX_FRAGMENTS * DEFAULT_FRAGMENT_BYTES).toBe(179_200);
    expect(errorOf(() => checkFitsAnimatedQr(179_200))).toBeUndefined();
    expect(errorOf(() => checkFitsAnimatedQr(179_201))?.code).toBe('QR_OUTPUT_TOO_LARGE');
    // crypto-psbt wraps the PSBT in a CBOR byte string: 5 bytes of header from 65,536 bytes on
    expect(errorOf(() => psbtToUr(randomBytes(179_195, 10)))).toBeUndefined();
    expect(errorOf(() => psbtToUr(randomBytes(179_196, 11)))?.code).toBe('QR_OUTPUT_TOO_LARGE');
  });
});
