/**
 * Which fragments a fountain part mixes (BCR-2020-005 §"Choosing fragments"), computed the way @ngraveio/bc-ur does,
 * bit for bit, but in time proportional to the part's degree instead of the fragment count.
 *
 * The spec seeds xoshiro256** with SHA-256(seqNum ‖ checksum), draws the degree from the distribution P(d) ∝ 1/d,
 * then shuffles all seqLen indexes and keeps the first `degree`. bc-ur draws every number through arbitrary-precision
 * decimal types (about 7 µs a draw) and shuffles all seqLen indexes, so one mixed part costs milliseconds at a
 * thousand fragments. Here: native 64-bit integers, the same decimal rounding of each draw, and only the first `degree`
 * steps of the shuffle (the later steps never change the first `degree` picks). The degree sampler is the library bc-ur
 * uses (@keystonehq/alias-sampling), one table per seqLen. test/qr/fountain-indexes.test.ts compares this with bc-ur's
 * own derivation for thousands of parts; bc-ur's FountainDecoder still does all the decoding (FastIndexFountainDecoder
 * below, a subclass given to bc-ur's URDecoder: nothing of the library is patched).
 */
import aliasSamplingModule from '@keystonehq/alias-sampling';
import FountainDecoderModule, { FountainDecoderPart } from '@ngraveio/bc-ur/dist/fountainDecoder.js';
import type { FountainEncoderPart } from '@ngraveio/bc-ur/dist/fountainEncoder.js';
import type { URDecoder } from '@ngraveio/bc-ur';
import { sha256 } from '@noble/hashes/sha2.js';

type AliasSample = typeof import('@keystonehq/alias-sampling').default;
// Node loads the CommonJS build (the function is its `default` export); bundlers load the ES module build.
const sample = ((aliasSamplingModule as unknown as { default?: AliasSample }).default ??
  aliasSamplingModule) as AliasSample;

const MASK64 = (1n << 64n) - 1n;
const rotl = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (64n - k))) & MASK64;

/** bc-ur's draw: the 64-bit output ÷ 2^64, rounded half-up to 20 decimal places (bignumber.js defaults), read as a double. */
const DECIMALS = 10n ** 20n;
function toUnitDouble(value: bigint): number {
  const scaled = value * DECIMALS;
  let quotient = scaled >> 64n;
  if ((scaled & MASK64) >= 1n << 63n) quotient += 1n; // ROUND_HALF_UP
  if (quotient === DECIMALS) return 1;
  return Number(`0.${quotient.toString().padStart(20, '0')}`);
}

/** xoshiro256** (the BCR-2020-005 PRNG), state seeded big-endian from a SHA-256 digest. */
class Xoshiro256 {
  private s0: bigint;
  private s1: bigint;
  private s2: bigint;
  private s3: bigint;

  constructor(digest: Uint8Array) {
    const view = new DataView(digest.buffer, digest.byteOffset, digest.byteLength);
    this.s0 = view.getBigUint64(0);
    this.s1 = view.getBigUint64(8);
    this.s2 = view.getBigUint64(16);
    this.s3 = view.getBigUint64(24);
  }

  next(): bigint {
    const result = (rotl((this.s1 * 5n) & MASK64, 7n) * 9n) & MASK64;
    const t = (this.s1 << 17n) & MASK64;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 45n);
    return result;
  }

  nextDouble(): number {
    return toUnitDouble(this.next());
  }

  /** An integer in [low, high], as bc-ur computes it from nextDouble. */
  nextInt(low: number, high: number): number {
    return Math.floor(this.nextDouble() * (high - low + 1) + low);
  }
}

/** Degree samplers per seqLen: P(degree = d) ∝ 1/d for d in 1..seqLen (BCR-2020-005). The table is built once. */
const degreeSamplers = new Map<number, ReturnType<AliasSample>>();
let currentRng: Xoshiro256 | undefined;
const MAX_CACHED_SAMPLERS = 8;

function chooseDegree(seqLength: number, rng: Xoshiro256): number {
  let sampler = degreeSamplers.get(seqLength);
  if (sampler === undefined) {
    const probabilities = Array.from({ length: seqLength }, (_, index) => 1 / (index + 1));
    sampler = sample(probabilities, undefined, () => (currentRng as Xoshiro256).nextDouble());
    if (degreeSamplers.size >= MAX_CACHED_SAMPLERS) degreeSamplers.clear();
    degreeSamplers.set(seqLength, sampler);
  }
  currentRng = rng;
  try {
    return (sampler.next() as number) + 1;
  } finally {
    currentRng = undefined;
  }
}

/** The fragment indexes (0-based) mixed into part `seqNum` of a transfer of `seqLength` fragments with CRC-32 `checksum`. */
export function fountainFragmentIndexes(seqNum: number, seqLength: number, checksum: number): number[] {
  // Parts 1..seqLen are the pure fragments, one each.
  if (seqNum <= seqLength) return [seqNum - 1];
  const seed = new Uint8Array(8);
  const view = new DataView(seed.buffer);
  view.setUint32(0, seqNum);
  view.setUint32(4, checksum);
  const rng = new Xoshiro256(sha256(seed));
  const degree = chooseDegree(seqLength, rng);
  // The first `degree` steps of bc-ur's shuffle: each picks a position among the indexes not yet picked.
  const remaining = Array.from({ length: seqLength }, (_, index) => index);
  const picked: number[] = [];
  for (let step = 0; step < degree; step++) {
    const position = rng.nextInt(0, remaining.length - 1);
    picked.push(remaining[position] as number);
    remaining.splice(position, 1);
  }
  return picked;
}

/** The members of bc-ur's FountainDecoder its receivePart uses (private in the library's type declarations). */
interface FountainDecoderInternals {
  isComplete(): boolean;
  validatePart(part: FountainEncoderPart): boolean;
  processQueuedItem(): void;
  lastPartIndexes: number[];
  queuedParts: FountainDecoderPart[];
  processedPartsCount: number;
}

// Node loads the CommonJS build (the class is its `default` export); bundlers give the class itself.
type FountainDecoder = NonNullable<ConstructorParameters<typeof URDecoder>[0]>;
const BcUrFountainDecoder = ((FountainDecoderModule as { default?: unknown }).default ??
  FountainDecoderModule) as new () => FountainDecoder;

/**
 * bc-ur's FountainDecoder with each part's fragment indexes derived by fountainFragmentIndexes (the same indexes,
 * faster); validation, reduction, XOR and the checksum stay bc-ur's. Given to bc-ur's URDecoder, whose constructor
 * takes the fountain decoder to use: `new URDecoder(new FastIndexFountainDecoder())`.
 */
export class FastIndexFountainDecoder extends BcUrFountainDecoder {
  override receivePart(encoderPart: FountainEncoderPart): boolean {
    // bc-ur's FountainDecoder.receivePart step for step, but for the derivation of the part's indexes
    const self = this as unknown as FountainDecoderInternals;
    if (self.isComplete() || !self.validatePart(encoderPart)) return false;
    const indexes = fountainFragmentIndexes(encoderPart.seqNum, encoderPart.seqLength, encoderPart.checksum);
    const part = new FountainDecoderPart(indexes, encoderPart.fragment);
    self.lastPartIndexes = part.indexes;
    self.queuedParts.push(part);
    while (!self.isComplete() && self.queuedParts.length > 0) self.processQueuedItem();
    self.processedPartsCount += 1;
    return true;
  }
}
