/**
 * fountainFragmentIndexes must give exactly the fragment sets @ngraveio/bc-ur derives (BCR-2020-005 §"Choosing
 * fragments"): it replaces bc-ur's derivation inside bc-ur's decoder, so any difference would corrupt a transfer.
 * Compared here with bc-ur's own chooseFragments over thousands of parts, seqLens from 2 to the 2,048-fragment cap.
 */
import { URDecoder } from '@ngraveio/bc-ur';
import { FountainDecoderPart } from '@ngraveio/bc-ur/dist/fountainDecoder.js';
import { chooseFragments } from '@ngraveio/bc-ur/dist/fountainUtils.js';
import { describe, expect, it } from 'vitest';
import { FastIndexFountainDecoder, fountainFragmentIndexes } from '../../qr/fountain-indexes.js';
import { createUrFountain } from '../../qr/ur-parts.js';
import { randomBytes } from './support/transfer.js';
import { MAX_FRAGMENTS } from '../../qr/ur-parts.js';
import { seededRandom } from '../../scripts/qr-corpus.js';

describe('fountain fragment indexes', () => {
  it('equal bc-ur chooseFragments for 3,000 mixed parts of small transfers (seqLen 2..60, random checksums)', () => {
    const random = seededRandom(20261130);
    let compared = 0;
    for (let i = 0; i < 3000; i++) {
      const seqLength = 2 + Math.floor(random() * 59);
      const seqNum = seqLength + 1 + Math.floor(random() * 5000);
      const checksum = Math.floor(random() * 2 ** 32);
      expect(fountainFragmentIndexes(seqNum, seqLength, checksum)).toEqual(
        chooseFragments(seqNum, seqLength, checksum),
      );
      compared++;
    }
    expect(compared).toBe(3000);
  });

  it('equal bc-ur for consecutive seqNums of a 26-fragment transfer (a 10 KB PSBT) and at seqNum 2^32 − 1', () => {
    const checksum = 0x9c3e1a57;
    for (let seqNum = 1; seqNum <= 1026; seqNum++)
      expect(fountainFragmentIndexes(seqNum, 26, checksum)).toEqual(chooseFragments(seqNum, 26, checksum));
    expect(fountainFragmentIndexes(0xffffffff, 26, 0xffffffff)).toEqual(
      chooseFragments(0xffffffff, 26, 0xffffffff),
    );
  });

  it('equal bc-ur for large transfers: 300 and 1,000 fragments and the cap', () => {
    const random = seededRandom(7);
    for (const [seqLength, count] of [
      [300, 60],
      [1000, 25],
      [MAX_FRAGMENTS, 12],
    ] as const) {
      for (let i = 0; i < count; i++) {
        const seqNum = seqLength + 1 + Math.floor(random() * 100_000);
        const checksum = Math.floor(random() * 2 ** 32);
        const ours = fountainFragmentIndexes(seqNum, seqLength, checksum);
        expect(ours).toEqual(chooseFragments(seqNum, seqLength, checksum));
        expect(new Set(ours).size).toBe(ours.length);
      }
    }
  });

  it('pure parts (seqNum ≤ seqLen) are their own fragment', () => {
    expect(fountainFragmentIndexes(1, 5, 123)).toEqual([0]);
    expect(fountainFragmentIndexes(5, 5, 123)).toEqual([4]);
  });

  it("FastIndexFountainDecoder in bc-ur's URDecoder: the same progress part by part and the same message as bc-ur's own decoder, nothing patched", () => {
    const derive = FountainDecoderPart.fromEncoderPart;
    const random = seededRandom(11);
    const message = randomBytes(40 * 30, 12);
    const fountain = createUrFountain('bytes', message, 30);
    // a lossy stream: 30% of the parts dropped, mixed parts included
    const parts = Array.from({ length: 120 }, () => fountain.nextPart()).filter(() => random() >= 0.3);
    const ours = new URDecoder(new FastIndexFountainDecoder());
    const theirs = new URDecoder();
    let mixedSeen = 0;
    for (const part of parts) {
      if (ours.isComplete()) break;
      expect(ours.receivePart(part)).toBe(theirs.receivePart(part));
      expect(ours.receivedPartIndexes()).toEqual(theirs.receivedPartIndexes());
      expect(ours.lastPartIndexes()).toEqual(theirs.lastPartIndexes());
      if (ours.lastPartIndexes().length > 1) mixedSeen++;
    }
    expect(mixedSeen).toBeGreaterThan(0);
    expect(ours.isSuccess() && theirs.isSuccess()).toBe(true);
    expect(new Uint8Array(ours.resultUR().cbor)).toEqual(new Uint8Array(theirs.resultUR().cbor));
    expect(FountainDecoderPart.fromEncoderPart).toBe(derive);
  });
});
