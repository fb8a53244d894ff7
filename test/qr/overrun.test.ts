/**
 * BCR-2020-005 fountain transfers that can never complete stop early (QR_FOUNTAIN_OVERRUN) instead of feeding the
 * decoder without end: a coordinator sends only the real mixed parts that leave one fragment uncovered.
 */
import { chooseFragments } from '@ngraveio/bc-ur/dist/fountainUtils.js';
import { describe, expect, it } from 'vitest';
import { FOUNTAIN_OVERRUN_FACTOR, UrAssembler } from '../../qr/assembler.js';
import { createUrFountain, parseUrPart } from '../../qr/index.js';
import { codeOf } from './support/errors.js';
import { randomBytes } from './support/transfer.js';

const FRAGMENTS = 10;

/** Real parts of a real transfer, keeping only those whose fragment set leaves out fragment 0. */
function partsMissingFragmentZero(count: number): string[] {
  const fountain = createUrFountain('bytes', randomBytes(FRAGMENTS * 100 - 20, 9), 100);
  expect(fountain.fragmentCount).toBe(FRAGMENTS);
  const parts: string[] = [];
  while (parts.length < count) {
    const part = fountain.nextPart();
    const { seqNum, seqLength, checksum } = parseUrPart(part).fountain!;
    if (!chooseFragments(seqNum, seqLength, checksum).includes(0)) parts.push(part);
  }
  return parts;
}

describe('fountain overrun', () => {
  it('a transfer that never covers one fragment stops at the bound with QR_FOUNTAIN_OVERRUN', () => {
    const parts = partsMissingFragmentZero(FOUNTAIN_OVERRUN_FACTOR * FRAGMENTS + 40);
    const assembler = new UrAssembler();
    let fed = 0;
    const code = codeOf(() => {
      for (const part of parts) {
        assembler.receivePart(part);
        fed++;
      }
    });
    expect(code).toBe('QR_FOUNTAIN_OVERRUN');
    expect(assembler.isComplete()).toBe(false);
    expect(fed).toBeLessThanOrEqual(FOUNTAIN_OVERRUN_FACTOR * FRAGMENTS + 16);
    expect(fed).toBeGreaterThanOrEqual(FOUNTAIN_OVERRUN_FACTOR * FRAGMENTS);
  });

  it('repeats of parts already seen are duplicates and do not count towards the bound', () => {
    const parts = partsMissingFragmentZero(5);
    const assembler = new UrAssembler();
    for (let round = 0; round < 50; round++) for (const part of parts) assembler.receivePart(part);
    expect(assembler.partsSeen()).toBe(250);
    expect(assembler.isComplete()).toBe(false);
  });
});
