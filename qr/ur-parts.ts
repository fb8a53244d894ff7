/**
 * Uniform Resources (BCR-2020-005): part syntax, the type allowlist, bytewords and fountain-code headers, over
 * @ngraveio/bc-ur. No CBOR registry here, so a camera Worker can reassemble transfers without the registry libraries.
 * Pure: no Node built-ins. The library uses the global Buffer (present in Node; a Worker installs the `buffer` package's).
 */
import { UR, UREncoder } from '@ngraveio/bc-ur';
import bytewordsModule from '@ngraveio/bc-ur/dist/bytewords.js';
import FountainEncoderModule, { FountainEncoderPart } from '@ngraveio/bc-ur/dist/fountainEncoder.js';
import { makeError } from '../core/errors.js';
import { equalBytes } from '../core/bytes.js';

/** The UR types coldsign accepts and produces (BCR-2020-006 crypto-psbt, BCR-2023 psbt, ERC-4527, BCR-2020-005 bytes). */
export const UR_TYPES = ['crypto-psbt', 'psbt', 'eth-sign-request', 'eth-signature', 'bytes'] as const;
export type UrType = (typeof UR_TYPES)[number];
/** UR types coldsign writes but never accepts as a request (BCR-2020-015 crypto-account: the pairing export). */
export const OUTPUT_ONLY_UR_TYPES = ['crypto-account'] as const;
export type OutputUrType = UrType | (typeof OUTPUT_ONLY_UR_TYPES)[number];

export interface UrMessage {
  type: UrType;
  cbor: Uint8Array;
}

/**
 * Default fragment size of animated URs, chosen by measurement (docs/bench/qr.md): the smallest size measured at
 * which a 10 KB PSBT at 10 frames/s with 10% frame loss arrives within 3 s at the 95th percentile (15 fragments,
 * QR version 22), where zxing-wasm still reads at least as many camera-like frames as zbarimg at 720p and 1080p.
 * 400 (Sparrow's and Keystone's default, QR version 16) needed 4.3 s. Readers accept any size (BCR-2020-005).
 */
export const DEFAULT_FRAGMENT_BYTES = 700;
export const MIN_FRAGMENT_BYTES = 10;
/** Larger fragments would not fit a QR version 40 symbol in alphanumeric mode. */
export const MAX_FRAGMENT_BYTES = 1000;
/** Longest single UR part accepted (a version-40 alphanumeric QR holds 4,296 characters). */
export const MAX_PART_CHARS = 8192;
/** Largest reassembled message accepted. */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/**
 * Most fragments accepted in one animated UR. The fountain decoder's work on a stream that never completes grows with
 * the square of this (× the fragment size), and 256 keeps the worst such stream under a second of CPU on the
 * appliance at the largest fragment size (docs/bench/qr.md). 256 frames is already 26 s of scanning at 10 frames/s:
 * a larger request goes by file. At the default 700-byte fragments that is a 179,200-byte UR message.
 */
export const MAX_FRAGMENTS = 256;

type Bytewords = { decode(text: string, style?: string): string; STYLES: { MINIMAL: string } };
const bytewords = ((bytewordsModule as unknown as { default?: Bytewords }).default ??
  bytewordsModule) as Bytewords;

const BufferCtor = (globalThis as unknown as { Buffer: typeof Buffer }).Buffer;
export function toBuffer(bytes: Uint8Array): Buffer {
  return BufferCtor.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
export function toU8(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer);
}

export function isUrType(type: string): type is UrType {
  return (UR_TYPES as readonly string[]).includes(type);
}

/** A UR part as the spec writes it: ur:<type>/<body> or ur:<type>/<seqNum>-<seqLen>/<body> (BCR-2020-005 §UR Encoding). */
const PART_RE = /^ur:([a-z0-9-]+)\/(?:([0-9]{1,10})-([0-9]{1,10})\/)?([a-z]+)$/;

export interface ParsedPart {
  type: UrType;
  /** Multi-part metadata, absent for a single-part UR. */
  fountain?: {
    seqNum: number;
    seqLength: number;
    messageLength: number;
    checksum: number;
    fragmentLength: number;
  };
  /** The single-part message CBOR. */
  cbor?: Uint8Array;
  /** The part, lower-cased and trimmed (URs are case-insensitive: BCR-2020-005). */
  text: string;
}

/** Parses one UR part: syntax, allowlisted type, bytewords checksum, fountain header consistency. */
export function parseUrPart(raw: string): ParsedPart {
  if (typeof raw !== 'string') throw makeError('UR_INVALID', 'The QR content is not text.');
  const text = raw.trim().toLowerCase();
  if (text.length > MAX_PART_CHARS) {
    throw makeError(
      'QR_PAYLOAD_TOO_LARGE',
      `The UR part is ${text.length} characters long, more than the ${MAX_PART_CHARS} accepted.`,
    );
  }
  if (!text.startsWith('ur:'))
    throw makeError('UR_INVALID', 'The QR content is not a UR (it does not start with "ur:").');
  const match = PART_RE.exec(text);
  if (!match)
    throw makeError(
      'UR_INVALID',
      'The UR part is malformed (expected ur:<type>/[<seq>-<count>/]<bytewords>).',
    );
  const [, type = '', seqText, lenText, body = ''] = match;
  // Route by the declared type from the allowlist; anything else is refused (parse, don't guess).
  if (!isUrType(type))
    throw makeError('QR_UNSUPPORTED_TYPE', `The UR type "${type.slice(0, 40)}" is not supported.`, {
      type: type.slice(0, 40),
    });
  const payload = decodeBytewords(body);
  if (seqText === undefined || lenText === undefined) return { type, cbor: payload, text };

  const seqNum = Number(seqText);
  const seqLength = Number(lenText);
  let part: FountainEncoderPart;
  try {
    part = FountainEncoderPart.fromCBOR(toBuffer(payload));
  } catch {
    throw makeError('UR_INVALID', 'The UR part does not carry a valid fountain-code header.');
  }
  // The header CBOR must be exactly the five-element array, canonically encoded, with nothing after it (BCR-2020-005).
  if (!equalBytes(toU8(part.cbor()), payload))
    throw makeError('UR_INVALID', 'The UR part header is not canonical CBOR or has trailing bytes.');
  const fragmentLength = part.fragment.length;
  // BCR-2020-005: seq in the path must match the CBOR header; seqNum counts from 1 and seqLen ≥ 1.
  if (
    part.seqNum !== seqNum ||
    part.seqLength !== seqLength ||
    seqNum < 1 ||
    seqLength < 1 ||
    seqNum > 0xffffffff
  ) {
    throw makeError('UR_INVALID', 'The UR part sequence numbers are inconsistent.');
  }
  if (
    !Number.isSafeInteger(part.messageLength) ||
    part.messageLength < 1 ||
    !Number.isSafeInteger(part.checksum) ||
    part.checksum < 0 ||
    part.checksum > 0xffffffff
  ) {
    throw makeError('UR_INVALID', 'The UR part header is invalid.');
  }
  if (part.messageLength > MAX_MESSAGE_BYTES) {
    throw makeError(
      'QR_PAYLOAD_TOO_LARGE',
      `The animated UR announces ${part.messageLength} bytes, more than the ${MAX_MESSAGE_BYTES} accepted.`,
    );
  }
  if (seqLength > MAX_FRAGMENTS) {
    throw makeError(
      'QR_PAYLOAD_TOO_LARGE',
      `The animated UR has ${seqLength} fragments, more than the ${MAX_FRAGMENTS} an animated QR accepts: the request is too large for an animated QR; save it as a file instead.`,
      { fragments: seqLength, maxFragments: MAX_FRAGMENTS },
    );
  }
  // BCR-2020-005: the message is split into seqLen equal fragments; a header that disagrees is hostile or corrupt.
  if (seqLength !== Math.ceil(part.messageLength / fragmentLength)) {
    throw makeError('UR_INVALID', 'The UR part fragment count does not match its message length.');
  }
  return {
    type,
    text,
    fountain: {
      seqNum,
      seqLength,
      messageLength: part.messageLength,
      checksum: part.checksum,
      fragmentLength,
    },
  };
}

function decodeBytewords(body: string): Uint8Array {
  let hex: string;
  try {
    hex = bytewords.decode(body, bytewords.STYLES.MINIMAL);
  } catch (error) {
    // Bytewords minimal ends in a CRC-32 of the body (BCR-2020-012).
    const message = error instanceof Error ? error.message : '';
    if (message.includes('Checksum'))
      throw makeError('QR_CHECKSUM', 'The UR part fails its checksum (corrupted frame).');
    throw makeError('UR_INVALID', 'The UR part body is not valid bytewords.');
  }
  return toU8(BufferCtor.from(hex, 'hex'));
}

/** Decodes a complete single-part UR string. Multi-part URs go through UrAssembler. */
export function decodeSinglePartUr(text: string): UrMessage {
  const parsed = parseUrPart(text);
  if (!parsed.cbor)
    throw makeError('QR_INCOMPLETE', 'This is one part of an animated UR; all parts are needed.');
  return { type: parsed.type, cbor: parsed.cbor };
}

function checkFragmentBytes(fragmentBytes: number): void {
  if (
    !Number.isInteger(fragmentBytes) ||
    fragmentBytes < MIN_FRAGMENT_BYTES ||
    fragmentBytes > MAX_FRAGMENT_BYTES
  ) {
    throw makeError(
      'USAGE',
      `The fragment size must be a whole number of bytes from ${MIN_FRAGMENT_BYTES} to ${MAX_FRAGMENT_BYTES}.`,
    );
  }
}

/** A fountain encoder for animated display: the first fragmentCount parts are the pure fragments, then mixed parts forever. */
export interface UrFountain {
  readonly fragmentCount: number;
  nextPart(): string;
}

export function createUrFountain(
  type: OutputUrType,
  cborPayload: Uint8Array,
  fragmentBytes = DEFAULT_FRAGMENT_BYTES,
): UrFountain {
  if (!isUrType(type) && !(OUTPUT_ONLY_UR_TYPES as readonly string[]).includes(type))
    throw makeError('QR_UNSUPPORTED_TYPE', `The UR type "${String(type)}" is not supported.`);
  checkFragmentBytes(fragmentBytes);
  if (cborPayload.length === 0) throw makeError('INPUT_EMPTY', 'Nothing to encode: the payload is empty.');
  const encoder = new UREncoder(new UR(toBuffer(cborPayload), type), fragmentBytes);
  return { fragmentCount: encoder.fragmentsLength, nextPart: () => encoder.nextPart() };
}

type FountainEncoderStatics = {
  findNominalFragmentLength(
    messageLength: number,
    minFragmentLength: number,
    maxFragmentLength: number,
  ): number;
};
const FountainEncoder = ((FountainEncoderModule as { default?: FountainEncoderStatics }).default ??
  FountainEncoderModule) as FountainEncoderStatics;

/**
 * How many fragments a CBOR payload of `cborLength` bytes is split into at `fragmentBytes` per fragment, computed as
 * the encoder computes it (BCR-2020-005: the message is cut into equal fragments no longer than the maximum).
 */
export function urFragmentCount(cborLength: number, fragmentBytes = DEFAULT_FRAGMENT_BYTES): number {
  checkFragmentBytes(fragmentBytes);
  if (cborLength <= 0) return 0;
  const length = FountainEncoder.findNominalFragmentLength(cborLength, MIN_FRAGMENT_BYTES, fragmentBytes);
  return Math.ceil(cborLength / length);
}

/**
 * Refuses to write an animated UR of more than MAX_FRAGMENTS frames: coldsign (and any reader with the same cap) would
 * refuse that stream on input, so it is never produced (QR_OUTPUT_TOO_LARGE, exit code 3).
 */
export function checkFitsAnimatedQr(cborLength: number, fragmentBytes = DEFAULT_FRAGMENT_BYTES): void {
  const fragments = urFragmentCount(cborLength, fragmentBytes);
  if (fragments > MAX_FRAGMENTS) {
    throw makeError(
      'QR_OUTPUT_TOO_LARGE',
      `The data is too large for an animated QR (${cborLength} bytes would take ${fragments} frames of ${fragmentBytes} bytes, more than the ${MAX_FRAGMENTS} a reader accepts): carry it as a file instead.`,
      { bytes: cborLength, fragments, fragmentBytes, maxFragments: MAX_FRAGMENTS },
    );
  }
}

/**
 * UR parts for a CBOR payload: one single-part UR when it fits one fragment, else the pure fountain fragments.
 * Refused (QR_OUTPUT_TOO_LARGE) before encoding when they would be more than MAX_FRAGMENTS.
 */
export function encodeUrParts(
  type: OutputUrType,
  cborPayload: Uint8Array,
  fragmentBytes = DEFAULT_FRAGMENT_BYTES,
): string[] {
  checkFitsAnimatedQr(cborPayload.length, fragmentBytes);
  const fountain = createUrFountain(type, cborPayload, fragmentBytes);
  return Array.from({ length: fountain.fragmentCount }, () => fountain.nextPart());
}
