/**
 * BBQr ("Better Bitcoin QR", as Coldcard Q, Sparrow, SeedSigner and Nunchuk write it): a file split over QR
 * frames, each "B$" + encoding + file type + total (2 base-36 digits) + index (2 base-36 digits) + data.
 * Encodings: H (hex), 2 (base32, RFC 4648 without padding), Z (raw DEFLATE, 1 KB window, then base32).
 * Pure: DEFLATE is handed in by the host (the Node side uses its zlib).
 */
import { base32nopad, hex } from '@scure/base';
import { makeError } from '../core/errors.js';
import { MAX_MESSAGE_BYTES } from './ur-parts.js';

export type BbqrEncoding = 'H' | '2' | 'Z';
/** BBQr file types: P PSBT, T transaction, J JSON, U UTF-8 text, B binary, C CBOR. */
export type BbqrFileType = 'P' | 'T' | 'J' | 'U' | 'B' | 'C';

/** Raw DEFLATE as BBQr needs it: window of 2^10 bytes (so small devices can inflate), no zlib header. */
export interface RawDeflate {
  inflate(data: Uint8Array, maxBytes: number): Uint8Array;
  deflate(data: Uint8Array): Uint8Array;
}

export interface BbqrPart {
  encoding: BbqrEncoding;
  fileType: BbqrFileType;
  total: number;
  index: number;
  data: string;
}

const HEADER_RE = /^B\$([H2Z])([PTJUBC])([0-9A-Z]{2})([0-9A-Z]{2})([0-9A-Z]*)$/;
/** BBQr: at most 36² − 1 frames (two base-36 digits). */
export const MAX_BBQR_PARTS = 1295;
/** Characters of a frame written by coldsign (a version-27 QR at error correction L holds about 1,500 alphanumerics). */
export const BBQR_PART_CHARS = 1000;

export function looksLikeBbqr(text: string): boolean {
  return text.trimStart().startsWith('B$');
}

export function parseBbqrPart(raw: string): BbqrPart {
  const text = raw.trim();
  if (text.length > 8192)
    throw makeError('QR_PAYLOAD_TOO_LARGE', 'The BBQr frame is longer than 8,192 characters.');
  const match = HEADER_RE.exec(text);
  if (!match)
    throw makeError(
      'UR_INVALID',
      'The BBQr frame is malformed (expected B$ + encoding H/2/Z + file type + total + index + data).',
    );
  const [, encoding, fileType, totalText, indexText, data = ''] = match;
  const total = parseInt(totalText!, 36);
  const index = parseInt(indexText!, 36);
  if (total < 1 || index >= total)
    throw makeError('UR_INVALID', 'The BBQr frame numbers are inconsistent (index beyond total).');
  return { encoding: encoding as BbqrEncoding, fileType: fileType as BbqrFileType, total, index, data };
}

/** Joins BBQr frames (any order, repeats allowed) into the file they carry. */
export function joinBbqr(
  texts: string[],
  deflate: RawDeflate | undefined,
): { fileType: BbqrFileType; encoding: BbqrEncoding; bytes: Uint8Array } {
  const parts = texts.map(parseBbqrPart);
  const first = parts[0];
  if (!first) throw makeError('QR_INCOMPLETE', 'No BBQr frame was read.');
  const byIndex = new Map<number, string>();
  for (const part of parts) {
    if (part.encoding !== first.encoding || part.fileType !== first.fileType || part.total !== first.total)
      throw makeError('QR_MIXED_TRANSFER', 'The BBQr frames belong to different transfers.');
    const known = byIndex.get(part.index);
    if (known !== undefined && known !== part.data)
      throw makeError('QR_MIXED_TRANSFER', `Two different BBQr frames claim number ${part.index + 1}.`);
    byIndex.set(part.index, part.data);
  }
  if (byIndex.size < first.total)
    throw makeError(
      'QR_INCOMPLETE',
      `${byIndex.size} of the ${first.total} BBQr frames were read; show the missing frames too.`,
    );
  const data = Array.from({ length: first.total }, (_, i) => byIndex.get(i)!).join('');
  return {
    fileType: first.fileType,
    encoding: first.encoding,
    bytes: decodeData(first.encoding, data, deflate),
  };
}

function decodeData(encoding: BbqrEncoding, data: string, deflate: RawDeflate | undefined): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = encoding === 'H' ? hex.decode(data.toLowerCase()) : base32nopad.decode(data);
  } catch {
    throw makeError('UR_INVALID', `The BBQr data is not valid ${encoding === 'H' ? 'hex' : 'base32'}.`);
  }
  if (encoding !== 'Z') return checkSize(bytes);
  if (!deflate) throw makeError('QR_UNSUPPORTED_TYPE', 'Compressed (Z) BBQr cannot be read here.');
  try {
    // Bounded: inflating stops at the largest message accepted (a zip bomb ends here, not in memory).
    return checkSize(deflate.inflate(bytes, MAX_MESSAGE_BYTES + 1));
  } catch (error) {
    if (
      error instanceof Error &&
      'code' in error &&
      (error as { code: string }).code === 'QR_PAYLOAD_TOO_LARGE'
    )
      throw error;
    throw makeError('UR_INVALID', 'The compressed BBQr data does not inflate.');
  }
}

function checkSize(bytes: Uint8Array): Uint8Array {
  if (bytes.length > MAX_MESSAGE_BYTES)
    throw makeError(
      'QR_PAYLOAD_TOO_LARGE',
      `The BBQr file is larger than the ${MAX_MESSAGE_BYTES} bytes accepted.`,
    );
  if (bytes.length === 0) throw makeError('INPUT_EMPTY', 'The BBQr frames carry an empty file.');
  return bytes;
}

/**
 * Splits a file into BBQr frames of at most `partChars` characters. Z falls back to 2 when compression does
 * not help (as the BBQr reference does); base32 data is cut on 8-character (5-byte) boundaries, hex on 2.
 */
export function splitBbqr(
  bytes: Uint8Array,
  fileType: BbqrFileType,
  encoding: BbqrEncoding,
  deflate?: RawDeflate,
  partChars = BBQR_PART_CHARS,
): string[] {
  if (bytes.length === 0) throw makeError('INPUT_EMPTY', 'Nothing to encode: the file is empty.');
  let used = encoding;
  let data: string;
  if (encoding === 'H') data = hex.encode(bytes).toUpperCase();
  else {
    const compressed = encoding === 'Z' && deflate ? deflate.deflate(bytes) : undefined;
    if (compressed && compressed.length < bytes.length) data = base32nopad.encode(compressed);
    else {
      used = '2';
      data = base32nopad.encode(bytes);
    }
  }
  const unit = used === 'H' ? 2 : 8;
  const perPart = Math.floor((partChars - 8) / unit) * unit;
  const total = Math.ceil(data.length / perPart);
  if (perPart < unit || total > MAX_BBQR_PARTS)
    throw makeError('QR_PAYLOAD_TOO_LARGE', `The file needs more than ${MAX_BBQR_PARTS} BBQr frames.`);
  const digits = (n: number) => n.toString(36).toUpperCase().padStart(2, '0');
  return Array.from(
    { length: total },
    (_, i) => `B$${used}${fileType}${digits(total)}${digits(i)}${data.slice(i * perPart, (i + 1) * perPart)}`,
  );
}
