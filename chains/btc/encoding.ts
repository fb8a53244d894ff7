/**
 * PSBT transport encodings (pure): binary, base64 or hex, detected from the content, never from a
 * file name. BIP-174 "Encoding": base64 for text transport; hex is what Core's and Electrum's tools print;
 * base43 is what Electrum puts in its QR codes.
 */
import { utils as baseUtils } from '@scure/base';
import { makeError } from '../../core/errors.js';
import { fromHex, toHex, utf8 } from '../../core/bytes.js';

export type PsbtEncoding = 'binary' | 'base64' | 'hex' | 'base43';

/** Electrum's base43 alphabet: the QR alphanumeric characters without space and '%'. */
const BASE43_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ$*+-./:';
const BASE43_RE = /^[0-9A-Z$*+\-./:]+$/;
/** One QR code holds at most 4296 alphanumeric characters (ISO/IEC 18004, version 40-L); base conversion is quadratic, so longer text is refused before decoding. */
export const MAX_BASE43_CHARS = 4296;
const base43 = baseUtils.chain(baseUtils.radix(43), baseUtils.alphabet(BASE43_ALPHABET), baseUtils.join(''));

/** Base43 text (Electrum's QR): only its alphabet, and not plain hex (hex is read as hex). */
function isBase43Text(text: string): boolean {
  return BASE43_RE.test(text) && !HEX_RE.test(text);
}

function decodeBase43(text: string): Uint8Array {
  if (text.length > MAX_BASE43_CHARS) {
    throw makeError(
      'INPUT_TOO_LARGE',
      `The base43 PSBT text has ${text.length} characters; at most ${MAX_BASE43_CHARS} (one QR code) are accepted.`,
      { size: text.length, max: MAX_BASE43_CHARS },
    );
  }
  return base43.decode(text);
}

/** Largest request accepted, in bytes as received (a PSBT with thousands of inputs fits easily). */
export const MAX_PSBT_INPUT_BYTES = 4 * 1024 * 1024;

/** BIP-174: "psbt" followed by the 0xff separator. */
export const PSBT_MAGIC = Uint8Array.of(0x70, 0x73, 0x62, 0x74, 0xff);

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
const HEX_RE = /^[0-9a-fA-F]*$/;
/** A byte that is neither printable ASCII nor tab, line feed or carriage return. */
const NOT_PRINTABLE_RE = /[^\t\n\r\x20-\x7e]/;

function startsWithMagic(bytes: Uint8Array): boolean {
  return bytes.length >= PSBT_MAGIC.length && PSBT_MAGIC.every((b, i) => bytes[i] === b);
}

/** Node's Buffer (a global in Node and Electron's main process) over the same memory: native codecs. */
function nodeBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** Text with surrounding whitespace removed; null when the bytes are not printable ASCII. */
function asciiText(input: Uint8Array): string | null {
  // latin1 maps each byte to one character, so the native regex scan sees every byte (a JS loop was slower).
  const text = nodeBuffer(input).toString('latin1');
  return NOT_PRINTABLE_RE.test(text) ? null : text.trim();
}

function decodeBase64(text: string): Uint8Array {
  // RFC 4648 §4 canonical base64: padded to a multiple of four, standard alphabet.
  if (text.length % 4 !== 0 || !BASE64_RE.test(text)) {
    throw makeError('PSBT_INVALID', 'The PSBT text is not valid base64.');
  }
  // Checked canonical above, so Node's decoder (lenient only about characters already refused) reads it as is;
  // copied into a plain Uint8Array (a Buffer's slice() would share memory).
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** RFC 4648 §4 base64 with padding (Node's native encoder; a JS loop cost ~20 ms per 1,000-input PSBT). */
export function encodeBase64(bytes: Uint8Array): string {
  return nodeBuffer(bytes).toString('base64');
}

/**
 * The binary PSBT inside `input` and the encoding it came in. Binary is recognised by the magic bytes;
 * text is hex when it is all hex digits, base64 otherwise. Whitespace around text is ignored.
 */
export function decodePsbtTransport(input: Uint8Array): { bytes: Uint8Array; encoding: PsbtEncoding } {
  if (input.length === 0) throw makeError('INPUT_EMPTY', 'The request is empty.');
  if (input.length > MAX_PSBT_INPUT_BYTES) {
    throw makeError(
      'INPUT_TOO_LARGE',
      `The request has ${input.length} bytes; at most ${MAX_PSBT_INPUT_BYTES} are accepted.`,
      {
        size: input.length,
        max: MAX_PSBT_INPUT_BYTES,
      },
    );
  }
  if (startsWithMagic(input)) return { bytes: input, encoding: 'binary' };
  const text = asciiText(input);
  if (text === null || text.length === 0) {
    throw makeError(
      'PSBT_BAD_MAGIC',
      'The request does not start with the PSBT magic bytes and is not base64 or hex text.',
    );
  }
  if (HEX_RE.test(text)) {
    if (text.length % 2 !== 0)
      throw makeError('PSBT_INVALID', 'The PSBT hex text has an odd number of digits.');
    return { bytes: fromHex(text), encoding: 'hex' };
  }
  if (isBase43Text(text)) return { bytes: decodeBase43(text), encoding: 'base43' };
  return { bytes: decodeBase64(text), encoding: 'base64' };
}

/** `bytes` (a binary PSBT) in the given transport encoding, as the bytes of the output file. */
export function encodePsbtTransport(bytes: Uint8Array, encoding: PsbtEncoding): Uint8Array {
  switch (encoding) {
    case 'binary':
      return bytes;
    case 'base64':
      return utf8(encodeBase64(bytes));
    case 'hex':
      return utf8(toHex(bytes));
    case 'base43':
      return utf8(base43.encode(bytes));
  }
}

/**
 * Whether `input` looks like a PSBT (binary magic, or base64/hex text of it), for the intake's format
 * detection; parsePsbt does the real checks.
 */
export function looksLikePsbt(input: Uint8Array): PsbtEncoding | null {
  if (startsWithMagic(input)) return 'binary';
  const head = new TextDecoder('latin1').decode(input.subarray(0, 64)).trimStart();
  if (head.startsWith('cHNidP8')) return 'base64';
  if (/^70736274ff/i.test(head)) return 'hex';
  // Base43 digits depend on the whole text: decode it (bounded by MAX_BASE43_CHARS) and look for the magic.
  const text = new TextDecoder('latin1').decode(input.subarray(0, MAX_BASE43_CHARS + 64)).trim();
  if (!isBase43Text(text)) return null;
  // Too long for one QR code: claimed as base43 so that parsing refuses it by its size.
  if (text.length > MAX_BASE43_CHARS) return 'base43';
  if (startsWithMagic(base43.decode(text))) return 'base43';
  return null;
}
