/**
 * Reassembles a UR transfer from its parts, in any order, with repeats and losses (BCR-2020-005 fountain codes),
 * over the @ngraveio/bc-ur decoder (fed with fountain-indexes.ts's faster, identical fragment-set derivation).
 * Refuses parts of another transfer, unknown types and corrupt messages, and bounds the decoder's work.
 */
import { URDecoder } from '@ngraveio/bc-ur';
import { getCRC } from '@ngraveio/bc-ur/dist/utils.js';
import { makeError } from '../core/errors.js';
import { equalBytes } from '../core/bytes.js';
import { FastIndexFountainDecoder, fountainFragmentIndexes } from './fountain-indexes.js';
import { parseUrPart, toBuffer, type ParsedPart, type UrMessage, type UrType } from './ur-parts.js';

type TransferKey = NonNullable<ParsedPart['fountain']> & { type: UrType };

/** What receivePart did with a part. */
export type PartOutcome = 'accepted' | 'duplicate' | 'complete';

/**
 * BCR-2020-005: parts 1..seqLen carry one fragment each; later parts mix several. An honest stream needs about 0.6×
 * the fragment count of mixed parts at 30% frame loss, up to 0.9× in our measurements at 300 and 1,000 fragments
 * (docs/bench/qr.md), so a transfer still incomplete after 1.25 distinct mixed parts per fragment (plus a margin for
 * small transfers) is hostile or hopeless and stops. The budget counts mixed parts because they carry the cost.
 */
export const FOUNTAIN_MIXED_PARTS_FACTOR = 1.25;
export const FOUNTAIN_MIXED_PARTS_MARGIN = 16;

/** Distinct mixed parts fed to the decoder before a transfer of `seqLength` fragments is refused. */
export function mixedPartBudget(seqLength: number): number {
  return Math.ceil(FOUNTAIN_MIXED_PARTS_FACTOR * seqLength) + FOUNTAIN_MIXED_PARTS_MARGIN;
}

/**
 * The decoder's work on a mixed part grows with its degree (the fragments it mixes: one XOR of a fragment each).
 * BCR-2020-005 draws the degree d with probability ∝ 1/d, so an honest part mixes seqLen ÷ H(seqLen) fragments on
 * average (H = harmonic number), but a sender may pick only seqNums of high degree. The degrees fed are budgeted at
 * 1.5 × the mixed-part budget × that mean (1.5 so that honest parts, whose degrees vary, meet the part budget first),
 * so a stream of chosen high-degree parts stops once it has cost what a stream of honest parts would.
 */
export const FOUNTAIN_DEGREE_HEADROOM = 1.5;
export function mixedDegreeBudget(seqLength: number): number {
  let harmonic = 0;
  for (let degree = 1; degree <= seqLength; degree++) harmonic += 1 / degree;
  return Math.ceil(FOUNTAIN_DEGREE_HEADROOM * mixedPartBudget(seqLength) * (seqLength / harmonic));
}

export class UrAssembler {
  private type: UrType | undefined;
  private key: TransferKey | undefined;
  private single: Uint8Array | undefined;
  private decoder: URDecoder | undefined;
  private message: UrMessage | undefined;
  private partsReceived = 0;
  /** seqNums of the fountain parts handed to the decoder (a repeated seqNum carries the same part). */
  private readonly seqNums = new Set<number>();
  /** Distinct mixed parts (seqNum > seqLen) handed to the decoder. */
  private mixedParts = 0;
  /** Sum of the degrees (fragments mixed) of those parts. */
  private mixedDegrees = 0;

  /** Feeds one scanned part. Throws a ColdsignError (UR_INVALID, QR_UNSUPPORTED_TYPE, QR_CHECKSUM, QR_MIXED_TRANSFER, ...). */
  receivePart(raw: string): PartOutcome {
    const part = parseUrPart(raw);
    this.partsReceived += 1;
    if (this.type !== undefined && part.type !== this.type) {
      throw makeError(
        'QR_MIXED_TRANSFER',
        `Frames of two different transfers are mixed (${this.type} and ${part.type}).`,
      );
    }
    this.type = part.type;
    return part.fountain ? this.receiveFountainPart(part, part.fountain) : this.receiveSinglePart(part);
  }

  private receiveSinglePart(part: ParsedPart): PartOutcome {
    const cbor = part.cbor as Uint8Array;
    if (this.key !== undefined)
      throw makeError('QR_MIXED_TRANSFER', 'A single-part UR is mixed with the frames of an animated UR.');
    if (this.single !== undefined) {
      if (equalBytes(this.single, cbor)) return 'duplicate';
      throw makeError('QR_MIXED_TRANSFER', 'Two different single-part URs were scanned.');
    }
    this.single = cbor;
    this.message = { type: part.type, cbor };
    return 'complete';
  }

  private receiveFountainPart(part: ParsedPart, header: NonNullable<ParsedPart['fountain']>): PartOutcome {
    if (this.single !== undefined)
      throw makeError('QR_MIXED_TRANSFER', 'An animated UR frame is mixed with a single-part UR.');
    if (this.key === undefined) {
      this.key = { ...header, type: part.type };
      this.decoder = new URDecoder(new FastIndexFountainDecoder());
    } else if (!sameTransfer(this.key, header)) {
      // BCR-2020-005: every part of one message carries the same seqLen, messageLen and CRC-32 checksum.
      throw makeError(
        'QR_MIXED_TRANSFER',
        'Frames of two different animated URs are mixed (their checksums or lengths differ).',
      );
    }
    if (this.message !== undefined || this.seqNums.has(header.seqNum)) return 'duplicate';
    const mixed = header.seqNum > header.seqLength;
    if (mixed) this.chargeMixedPart(header);
    this.seqNums.add(header.seqNum);
    const decoder = this.decoder as URDecoder;
    const before = decoder.receivedPartIndexes().length;
    let accepted: boolean;
    try {
      accepted = decoder.receivePart(part.text);
    } catch {
      throw makeError('UR_INVALID', 'The UR part could not be decoded.');
    }
    if (decoder.isError())
      throw makeError(
        'QR_CHECKSUM',
        'The reassembled message fails its CRC-32 checksum (corrupted transfer).',
      );
    if (decoder.isComplete()) return this.finish(decoder);
    return accepted && decoder.receivedPartIndexes().length > before ? 'accepted' : 'duplicate';
  }

  /** Counts a mixed part against both budgets before the decoder sees it; throws QR_FOUNTAIN_OVERRUN past either. */
  private chargeMixedPart(header: NonNullable<ParsedPart['fountain']>): void {
    const degree = fountainFragmentIndexes(header.seqNum, header.seqLength, header.checksum).length;
    if (
      this.mixedParts >= mixedPartBudget(header.seqLength) ||
      this.mixedDegrees + degree > mixedDegreeBudget(header.seqLength)
    ) {
      throw makeError(
        'QR_FOUNTAIN_OVERRUN',
        `The animated UR is still incomplete after ${this.mixedParts} mixed parts for ${header.seqLength} fragments; it will not complete.`,
        { mixedParts: this.mixedParts, fragments: header.seqLength },
      );
    }
    this.mixedParts += 1;
    this.mixedDegrees += degree;
  }

  /** A decoder that says complete must also say success; the checksum is verified again here (the known bc-ur pitfall). */
  private finish(decoder: URDecoder): PartOutcome {
    const key = this.key as TransferKey;
    if (!decoder.isSuccess())
      throw makeError('QR_CHECKSUM', 'The animated UR completed but did not decode successfully.');
    const cbor = new Uint8Array(decoder.resultUR().cbor);
    if (cbor.length !== key.messageLength || getCRC(toBuffer(cbor)) !== key.checksum) {
      throw makeError(
        'QR_CHECKSUM',
        'The reassembled message fails its CRC-32 checksum (corrupted transfer).',
      );
    }
    this.message = { type: key.type, cbor };
    return 'complete';
  }

  /** Fraction of the message's fragments recovered, 0..1. */
  progress(): number {
    if (this.message !== undefined) return 1;
    if (this.decoder === undefined) return 0;
    return Math.min(0.99, this.decoder.getProgress());
  }

  isComplete(): boolean {
    return this.message !== undefined;
  }

  /** Fragments the message was split into (1 for a single-part UR, 0 before the first part). */
  expectedFragments(): number {
    if (this.single !== undefined) return 1;
    return this.key?.seqLength ?? 0;
  }

  /** Distinct mixed fountain parts handed to the decoder so far (the work the overrun budget bounds). */
  mixedPartsFed(): number {
    return this.mixedParts;
  }

  /** Sum of the degrees of the mixed parts handed to the decoder (the XOR work the degree budget bounds). */
  mixedDegreesFed(): number {
    return this.mixedDegrees;
  }

  /** Parts fed so far, counting duplicates. */
  partsSeen(): number {
    return this.partsReceived;
  }

  result(): UrMessage {
    if (this.message === undefined) {
      const percent = Math.floor(this.progress() * 100);
      throw makeError(
        'QR_INCOMPLETE',
        `The animated UR is incomplete: ${percent}% of ${this.expectedFragments()} fragments received.`,
        {
          progress: this.progress(),
        },
      );
    }
    return { type: this.message.type, cbor: new Uint8Array(this.message.cbor) };
  }
}

function sameTransfer(a: TransferKey, b: NonNullable<ParsedPart['fountain']>): boolean {
  return (
    a.seqLength === b.seqLength &&
    a.messageLength === b.messageLength &&
    a.checksum === b.checksum &&
    a.fragmentLength === b.fragmentLength
  );
}

/** Assembles a whole transfer from its parts (a UR part file, decoded QR images). Throws QR_INCOMPLETE when parts are missing. */
export function assembleUr(parts: Iterable<string>): UrMessage {
  const assembler = new UrAssembler();
  let any = false;
  for (const part of parts) {
    any = true;
    assembler.receivePart(part);
  }
  if (!any) throw makeError('INPUT_EMPTY', 'No UR part was given.');
  return assembler.result();
}
