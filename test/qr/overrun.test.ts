/**
 * BCR-2020-005 fountain transfers that can never complete stop early (QR_FOUNTAIN_OVERRUN) instead of feeding the
 * decoder without end: a coordinator sends only the real mixed parts that leave one fragment uncovered. The bound
 * counts distinct mixed parts (each costs the bc-ur decoder a shuffle of every fragment index), so the work before
 * refusal is asserted as a count of parts, not as time.
 */
import { chooseFragments } from '@ngraveio/bc-ur/dist/fountainUtils.js';
import { describe, expect, it } from 'vitest';
import { mixedDegreeBudget, mixedPartBudget, UrAssembler } from '../../qr/assembler.js';
import { fountainFragmentIndexes } from '../../qr/fountain-indexes.js';
import { createUrFountain, parseUrPart } from '../../qr/index.js';
import { seededRandom } from '../../scripts/qr-corpus.js';
import { codeOf } from './support/errors.js';
import { buildPart, randomBytes } from './support/transfer.js';

/** Real parts of a real transfer of `fragments` fragments, keeping only those whose fragment set leaves out fragment 0. */
function partsMissingFragmentZero(fragments: number, count: number): string[] {
  const fountain = createUrFountain('bytes', randomBytes(fragments * 100 - 20, fragments), 100);
  expect(fountain.fragmentCount).toBe(fragments);
  const parts: string[] = [];
  while (parts.length < count) {
    const part = fountain.nextPart();
    const { seqNum, seqLength, checksum } = parseUrPart(part).fountain!;
    if (!chooseFragments(seqNum, seqLength, checksum).includes(0)) parts.push(part);
  }
  return parts;
}

/** Feeds parts until the assembler throws; returns the error code and how many parts it took. */
function feedUntilRefused(
  assembler: UrAssembler,
  parts: string[],
): { code: string | undefined; fed: number } {
  let fed = 0;
  const code = codeOf(() => {
    for (const part of parts) {
      assembler.receivePart(part);
      fed++;
    }
  });
  return { code, fed };
}

describe('fountain overrun', () => {
  it('a transfer that never covers one fragment stops after its mixed-part budget with QR_FOUNTAIN_OVERRUN', () => {
    const fragments = 10;
    const parts = partsMissingFragmentZero(fragments, 3 * fragments + 40);
    const assembler = new UrAssembler();
    const { code, fed } = feedUntilRefused(assembler, parts);
    expect(code).toBe('QR_FOUNTAIN_OVERRUN');
    expect(assembler.isComplete()).toBe(false);
    expect(assembler.mixedPartsFed()).toBe(mixedPartBudget(fragments));
    // the 9 pure fragments other than fragment 0, then the mixed parts up to the budget
    expect(fed).toBe(fragments - 1 + mixedPartBudget(fragments));
  });

  it('a large hostile stream (200 fragments, 640 parts) is refused after 1.25× its fragment count of mixed parts', () => {
    const fragments = 200;
    // 640 distinct parts: more than the former bound of 3× the fragment count + 16 distinct parts
    const parts = partsMissingFragmentZero(fragments, 3 * fragments + 40);
    const assembler = new UrAssembler();
    const { code, fed } = feedUntilRefused(assembler, parts);
    expect(code).toBe('QR_FOUNTAIN_OVERRUN');
    expect(assembler.mixedPartsFed()).toBe(250 + 16);
    expect(fed).toBe(fragments - 1 + 250 + 16);
    expect(fed).toBeLessThan(3 * fragments + 16);
  });

  it('a stream of chosen high-degree parts stops at the degree budget, before the part budget', () => {
    const fragments = 200;
    const messageLength = fragments * 100 - 20;
    const checksum = 0x1234abcd;
    const part = (seqNum: number) =>
      buildPart('bytes', seqNum, fragments, messageLength, checksum, randomBytes(100, seqNum));
    // every pure fragment but fragment 0, then only mixed parts that mix more than half of the fragments, never 0
    const parts = Array.from({ length: fragments - 1 }, (_, i) => part(i + 2));
    for (let seqNum = fragments + 1; parts.length < fragments - 1 + mixedPartBudget(fragments); seqNum++) {
      const indexes = fountainFragmentIndexes(seqNum, fragments, checksum);
      if (indexes.length > fragments / 2 && !indexes.includes(0)) parts.push(part(seqNum));
    }
    const assembler = new UrAssembler();
    const { code, fed } = feedUntilRefused(assembler, parts);
    expect(code).toBe('QR_FOUNTAIN_OVERRUN');
    expect(assembler.mixedDegreesFed()).toBeLessThanOrEqual(mixedDegreeBudget(fragments));
    // each part mixes > 100 fragments, so the degree budget ends the stream after far fewer parts than the part budget
    expect(assembler.mixedPartsFed()).toBeLessThan(mixedPartBudget(fragments) / 2);
    expect(fed).toBe(fragments - 1 + assembler.mixedPartsFed());
  });

  for (const loss of [0.1, 0.2, 0.3]) {
    it(`honest transfers of 100 fragments at ${loss * 100}% frame loss complete within both budgets (10 seeds)`, () => {
      const fragments = 100;
      for (let seed = 1; seed <= 10; seed++) {
        const payload = randomBytes(fragments * 100 - 20, seed);
        const fountain = createUrFountain('bytes', payload, 100);
        const assembler = new UrAssembler();
        const random = seededRandom(seed * 7919 + loss * 100);
        while (!assembler.isComplete()) {
          const part = fountain.nextPart();
          if (random() < loss) continue;
          assembler.receivePart(part);
        }
        expect(assembler.mixedPartsFed()).toBeGreaterThan(0);
        expect(assembler.mixedPartsFed()).toBeLessThanOrEqual(mixedPartBudget(fragments));
        expect(assembler.mixedDegreesFed()).toBeLessThanOrEqual(mixedDegreeBudget(fragments));
        expect(assembler.result().cbor).toEqual(payload);
      }
    });
  }

  it('repeats of parts already seen are duplicates and do not count towards the bound', () => {
    const parts = partsMissingFragmentZero(10, 5);
    const assembler = new UrAssembler();
    for (let round = 0; round < 50; round++) for (const part of parts) assembler.receivePart(part);
    expect(assembler.partsSeen()).toBe(250);
    expect(assembler.isComplete()).toBe(false);
  });
});
