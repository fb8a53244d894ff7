/**
 * The cap on an animated UR's fragment count (MAX_FRAGMENTS): a transfer announcing more is refused at its first part
 * (QR_PAYLOAD_TOO_LARGE, "use a file"), a hostile stream at the cap stops with QR_FOUNTAIN_OVERRUN after a bounded
 * count of parts, and an honest transfer at the cap still completes at 30% frame loss (BCR-2020-005 fountain codes).
 * Work is asserted as counts of parts; its CPU time is measured by `npx tsx bench/qr.bench.ts --bounds`.
 */
import { describe, expect, it } from 'vitest';
import { mixedDegreeBudget, mixedPartBudget, UrAssembler } from '../../qr/assembler.js';
import { createUrFountain } from '../../qr/index.js';
import { DEFAULT_FRAGMENT_BYTES, MAX_FRAGMENTS } from '../../qr/ur-parts.js';
import { seededRandom } from '../../scripts/qr-corpus.js';
import { codeOf, errorOf } from './support/errors.js';
import { fastTransfer, randomBytes } from './support/transfer.js';

describe('animated UR fragment cap', () => {
  it(`a real transfer of ${MAX_FRAGMENTS + 1} fragments is refused at its first part, telling to use a file`, () => {
    const fountain = createUrFountain(
      'bytes',
      randomBytes(MAX_FRAGMENTS * DEFAULT_FRAGMENT_BYTES + 1, 3),
      DEFAULT_FRAGMENT_BYTES,
    );
    expect(fountain.fragmentCount).toBe(MAX_FRAGMENTS + 1);
    const assembler = new UrAssembler();
    const error = errorOf(() => assembler.receivePart(fountain.nextPart()));
    expect(error?.code).toBe('QR_PAYLOAD_TOO_LARGE');
    expect(error?.message).toMatch(/too large for an animated QR.*file/);
    // refused from the header, before the decoder is created or the part counted
    expect(assembler.expectedFragments()).toBe(0);
    expect(assembler.partsSeen()).toBe(0);
  });

  it(`a transfer of exactly ${MAX_FRAGMENTS} fragments is accepted from its first part`, () => {
    const fountain = createUrFountain(
      'bytes',
      randomBytes(MAX_FRAGMENTS * DEFAULT_FRAGMENT_BYTES - 10, 4),
      DEFAULT_FRAGMENT_BYTES,
    );
    expect(fountain.fragmentCount).toBe(MAX_FRAGMENTS);
    expect(new UrAssembler().receivePart(fountain.nextPart())).toBe('accepted');
  });

  it(`a hostile stream at the cap (${MAX_FRAGMENTS} fragments, fragment 0 never sent) stops with QR_FOUNTAIN_OVERRUN`, () => {
    const transfer = fastTransfer(randomBytes(MAX_FRAGMENTS * 10, 5), 10);
    expect(transfer.fragments).toBe(MAX_FRAGMENTS);
    const parts: string[] = [];
    for (let seqNum = 2; parts.length < 3 * MAX_FRAGMENTS; seqNum++) {
      if (seqNum > MAX_FRAGMENTS && transfer.indexes(seqNum).includes(0)) continue;
      parts.push(transfer.part(seqNum));
    }
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
    expect(assembler.mixedPartsFed()).toBeLessThanOrEqual(mixedPartBudget(MAX_FRAGMENTS));
    expect(assembler.mixedDegreesFed()).toBeLessThanOrEqual(mixedDegreeBudget(MAX_FRAGMENTS));
    // every pure fragment but fragment 0, then the mixed parts up to a budget: far fewer than the parts offered
    expect(fed).toBe(MAX_FRAGMENTS - 1 + assembler.mixedPartsFed());
    expect(fed).toBeLessThan(parts.length);
  });

  it(`honest transfers at the cap (${MAX_FRAGMENTS} fragments) complete at 30% frame loss (3 seeds)`, () => {
    for (let seed = 1; seed <= 3; seed++) {
      const payload = randomBytes(MAX_FRAGMENTS * 10 - 3, seed);
      const transfer = fastTransfer(payload, 10);
      expect(transfer.fragments).toBe(MAX_FRAGMENTS);
      const random = seededRandom(seed * 131);
      const assembler = new UrAssembler();
      for (let seqNum = 1; !assembler.isComplete(); seqNum++) {
        if (random() < 0.3) continue;
        assembler.receivePart(transfer.part(seqNum));
      }
      expect(assembler.mixedPartsFed()).toBeGreaterThan(0);
      expect(assembler.mixedPartsFed()).toBeLessThanOrEqual(mixedPartBudget(MAX_FRAGMENTS));
      expect(assembler.result().cbor).toEqual(payload);
    }
  });
});
