// Helpers for animated-transfer tests and benchmarks: seeded payloads, lossy frame streams, hand-built hostile parts.
import bytewordsModule from '@ngraveio/bc-ur/dist/bytewords.js';
import * as fountainEncoderModule from '@ngraveio/bc-ur/dist/fountainEncoder.js';
import { FountainEncoderPart } from '@ngraveio/bc-ur/dist/fountainEncoder.js';
import { getCRC } from '@ngraveio/bc-ur/dist/utils.js';
import { fountainFragmentIndexes } from '../../../qr/fountain-indexes.js';
import { seededRandom } from '../../../scripts/qr-corpus.js';

export function randomBytes(length: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  return new Uint8Array(length).map(() => Math.floor(random() * 256));
}

type Bytewords = {
  encode(hex: string, style?: string): string;
  decode(text: string, style?: string): string;
  STYLES: { MINIMAL: string };
};
type Mixer = new (
  message: Buffer,
  maxFragmentLength: number,
) => {
  readonly fragmentsLength: number;
  mix(indexes: number[]): Buffer;
};
// bc-ur's FountainEncoder is its module's default export (CommonJS: reached through `default` once or twice).
const encoderExports = fountainEncoderModule as unknown as { default: Mixer | { default: Mixer } };
const FountainEncoder: Mixer =
  'default' in encoderExports.default ? encoderExports.default.default : (encoderExports.default as Mixer);

const bytewords = ((bytewordsModule as { default?: Bytewords }).default ?? bytewordsModule) as Bytewords;

/** A multi-part UR built by hand from header fields (for hostile or corrupted parts). */
export function buildPart(
  type: string,
  seqNum: number,
  seqLength: number,
  messageLength: number,
  checksum: number,
  fragment: Uint8Array,
  pathSeq?: string,
): string {
  const cbor = new FountainEncoderPart(
    seqNum,
    seqLength,
    messageLength,
    checksum,
    Buffer.from(fragment),
  ).cbor();
  return partFromCbor(type, pathSeq ?? `${seqNum}-${seqLength}`, new Uint8Array(cbor));
}

/** ur:<type>/<pathSeq>/<bytewords of cbor>, whatever the CBOR holds. */
export function partFromCbor(type: string, pathSeq: string, cbor: Uint8Array): string {
  return `ur:${type}/${pathSeq}/${bytewords.encode(Buffer.from(cbor).toString('hex'), bytewords.STYLES.MINIMAL)}`;
}

/** The fountain header CBOR of a part built from fields. */
export function headerCbor(
  seqNum: number,
  seqLength: number,
  messageLength: number,
  checksum: number,
  fragment: Uint8Array,
): Uint8Array {
  return new Uint8Array(
    new FountainEncoderPart(seqNum, seqLength, messageLength, checksum, Buffer.from(fragment)).cbor(),
  );
}

/** The header and fragment of a multi-part UR (to tamper with it). */
export function splitPart(part: string): {
  type: string;
  seqNum: number;
  seqLength: number;
  messageLength: number;
  checksum: number;
  fragment: Uint8Array;
} {
  const [, type = '', , body = ''] = part.toLowerCase().split(/[:/]/);
  const p = FountainEncoderPart.fromCBOR(
    Buffer.from(bytewords.decode(body, bytewords.STYLES.MINIMAL), 'hex'),
  );
  return {
    type,
    seqNum: p.seqNum,
    seqLength: p.seqLength,
    messageLength: p.messageLength,
    checksum: p.checksum,
    fragment: new Uint8Array(p.fragment),
  };
}

/**
 * A real transfer's part at any seqNum: bc-ur's own fragments and mix, with the fast fragment-set derivation (equal to
 * bc-ur's, test/qr/fountain-indexes.test.ts), so that transfers of hundreds of fragments build in milliseconds.
 */
export function fastTransfer(
  message: Uint8Array,
  fragmentBytes: number,
): { fragments: number; indexes(seqNum: number): number[]; part(seqNum: number): string } {
  const encoder = new FountainEncoder(Buffer.from(message), fragmentBytes);
  const fragments = encoder.fragmentsLength;
  const checksum = getCRC(Buffer.from(message));
  const indexes = (seqNum: number) => fountainFragmentIndexes(seqNum, fragments, checksum);
  const part = (seqNum: number) =>
    buildPart(
      'bytes',
      seqNum,
      fragments,
      message.length,
      checksum,
      new Uint8Array(encoder.mix(indexes(seqNum))),
    );
  return { fragments, indexes, part };
}
