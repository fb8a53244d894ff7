// Hostile input never crashes: random text, mutated UR parts and mangled image files all end in a ColdsignError (or are accepted).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import jpeg from 'jpeg-js';
import {
  UrAssembler,
  decodeImageFile,
  encodeUrParts,
  renderQrPng,
  renderQrRgba,
  collectPartsFromText,
} from '../../qr/index.js';
import { isColdsignError } from '../../core/errors.js';
import { toHex } from '../../core/bytes.js';
import { randomBytes } from './support/transfer.js';

function onlyColdsignErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!isColdsignError(error)) throw error;
  }
}

const BYTEWORD_LETTERS = 'abcdefghijklmnopqrstuvwxyz';

describe('fuzzing (fast-check)', () => {
  const message = randomBytes(900, 8);
  const parts = encodeUrParts('bytes', message, 100);

  it('arbitrary text fed as a UR part', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `ur:${s}`),
          fc.string().map((s) => `ur:bytes/${s}`),
        ),
        (text) => {
          onlyColdsignErrors(() => new UrAssembler().receivePart(text));
          onlyColdsignErrors(() => collectPartsFromText(text));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('valid parts with random letter changes never crash, and a completed transfer is always the original message', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            part: fc.nat(parts.length - 1),
            at: fc.nat(400),
            letter: fc.constantFrom(...BYTEWORD_LETTERS),
          }),
          { maxLength: 4 },
        ),
        fc.array(fc.nat(parts.length - 1), { minLength: parts.length, maxLength: parts.length * 2 }),
        (mutations, order) => {
          const mutated = [...parts];
          for (const { part, at, letter } of mutations) {
            const text = mutated[part]!;
            const index = text.lastIndexOf('/') + 1 + (at % (text.length - text.lastIndexOf('/') - 1));
            mutated[part] = text.slice(0, index) + letter + text.slice(index + 1);
          }
          const assembler = new UrAssembler();
          for (const index of [...order, ...mutated.keys()])
            onlyColdsignErrors(() => assembler.receivePart(mutated[index]!));
          if (assembler.isComplete())
            expect(toHex(assembler.result().cbor)).toBe(toHex(encodeUrPartsMessage()));
        },
      ),
      { numRuns: 300 },
    );
  });

  function encodeUrPartsMessage(): Uint8Array {
    const assembler = new UrAssembler();
    for (const part of parts) assembler.receivePart(part);
    return assembler.result().cbor;
  }

  it('truncated and byte-flipped PNG and JPEG files end in QR_IMAGE_INVALID or decode', () => {
    const png = renderQrPng(parts[0]!, { scale: 2 });
    const rgba = renderQrRgba(parts[0]!, { scale: 2 });
    const jpg = new Uint8Array(
      jpeg.encode({ data: Buffer.from(rgba.data.buffer), width: rgba.width, height: rgba.height }, 80).data,
    );
    fc.assert(
      fc.property(
        fc.constantFrom(png, jpg),
        fc.nat(),
        fc.array(fc.record({ at: fc.nat(), value: fc.nat(255) }), { maxLength: 8 }),
        (file, cut, flips) => {
          const bytes = file.slice(0, Math.max(1, cut % (file.length + 1)));
          for (const { at, value } of flips) bytes[at % bytes.length] = value;
          onlyColdsignErrors(() => decodeImageFile(bytes));
        },
      ),
      { numRuns: 300 },
    );
  });
});
