/**
 * Intake and detection: turns the inputs of one request (a file, QR images, a file of UR parts) into a
 * request payload, by content only and from a strict allowlist of formats (parse, don't guess).
 */
import { looksLikePsbt } from '../../chains/btc/encoding.js';
import { looksLikeBtcMessageRequest } from '../../chains/btc/message-request.js';
import { makeError } from '../errors.js';
import { detectImageKind } from '../../qr/sniff.js';
import { collectPartsFromText, looksLikeUrText } from '../../qr/text.js';
import type { BbqrEncoding, EthSignRequestFields, RawDeflate, UrType } from '../../qr/index.js';

/** A file or capture handed to the appliance. */
export interface InputFile {
  name: string;
  bytes: Uint8Array;
}

/** Decodes the QR codes in a PNG or JPEG image (zxing-wasm, then jsqr). */
export interface QrImageReader {
  readImage(bytes: Uint8Array): Promise<string[]>;
  /** Raw DEFLATE for compressed (Z) BBQr transfers, when the host has it. */
  deflate?: RawDeflate;
}

/** How the request crossed the air gap; the answer goes back the same way. */
export type Transport =
  { kind: 'file' } | { kind: 'qr'; urType?: UrType; frames: number; bbqr?: BbqrEncoding };

export type RequestPayload =
  | { chain: 'btc'; psbt: Uint8Array; transport: Transport }
  | { chain: 'btc'; messageRequest: Uint8Array; transport: Transport }
  | { chain: 'evm'; bytes: Uint8Array; transport: Transport }
  | { chain: 'evm'; ethSignRequest: EthSignRequestFields; transport: Transport };

/** Largest single input accepted (a PSBT with thousands of inputs stays far below). */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export type InputKind = 'image' | 'ur-text' | 'request';

export function inputKind(bytes: Uint8Array): InputKind {
  if (detectImageKind(bytes)) return 'image';
  const text = asText(bytes.subarray(0, 4096));
  if (text !== undefined && looksLikeUrText(text)) return 'ur-text';
  return 'request';
}

/**
 * Groups inputs into requests: QR images and UR part files together make one request (the frames of one
 * transfer); every other file is a request of its own.
 */
export function groupInputs(inputs: InputFile[]): InputFile[][] {
  const transport: InputFile[] = [];
  const files: InputFile[][] = [];
  for (const input of inputs) {
    if (inputKind(input.bytes) === 'request') files.push([input]);
    else transport.push(input);
  }
  return transport.length ? [transport, ...files] : files;
}

/** The payload of one request made of `inputs` (see groupInputs). */
export async function readRequest(
  inputs: InputFile[],
  qr: QrImageReader | undefined,
  onProgress: (done: number, total: number) => void = () => {},
): Promise<RequestPayload> {
  if (inputs.length === 0) throw makeError('USAGE', 'No input was given.');
  for (const input of inputs) {
    if (input.bytes.length === 0) throw makeError('INPUT_EMPTY', `${input.name} is empty.`);
    if (input.bytes.length > MAX_INPUT_BYTES) {
      throw makeError(
        'INPUT_TOO_LARGE',
        `${input.name} is larger than ${MAX_INPUT_BYTES / (1024 * 1024)} MB.`,
      );
    }
  }
  const kinds = inputs.map((i) => inputKind(i.bytes));
  if (kinds.every((k) => k === 'request')) {
    if (inputs.length > 1)
      throw makeError('USAGE', 'Several request files make several requests: give them one at a time.');
    return detectPayload(inputs[0]!.bytes, { kind: 'file' });
  }
  if (kinds.includes('request')) {
    throw makeError(
      'REQUEST_INVALID',
      'QR images or UR parts cannot be mixed with other request files in one request.',
    );
  }
  return readTransfer(inputs, kinds, qr, onProgress);
}

const NOT_A_REQUEST = 'The input is not a PSBT, an EVM request, a QR image or a file of UR parts.';

async function readTransfer(
  inputs: InputFile[],
  kinds: InputKind[],
  qr: QrImageReader | undefined,
  onProgress: (done: number, total: number) => void,
): Promise<RequestPayload> {
  const texts = await readTransferTexts(inputs, qr, onProgress, kinds);
  if (texts.length > 0 && texts[0]!.trimStart().startsWith('B$')) return readBbqr(texts, qr);
  // A lone QR that is not a UR may hold the request itself (e.g. a base64 PSBT or an unsigned tx in hex).
  if (texts.length === 1 && !/^ur:/i.test(texts[0]!.trim())) {
    return detectPayload(new TextEncoder().encode(texts[0]!), { kind: 'qr', frames: 1 });
  }
  // The UR libraries load only when a QR transfer arrives.
  const { assembleUr, interpretUr } = await import('../../qr/index.js');
  // Every frame is fed, also after completion: a stray frame of another transfer is refused.
  const payload = interpretUr(assembleUr(texts));
  const transport: Transport = { kind: 'qr', urType: payload.type, frames: texts.length };
  switch (payload.kind) {
    case 'psbt':
      return { chain: 'btc', psbt: payload.psbt, transport };
    case 'eth-sign-request':
      return { chain: 'evm', ethSignRequest: payload.request, transport };
    case 'eth-signature':
      throw makeError(
        'INPUT_UNRECOGNIZED',
        'This QR holds a signature (eth-signature), not a request to sign.',
      );
    case 'bytes':
      throw makeError('QR_UNSUPPORTED_TYPE', 'A bytes UR is not a request coldsign can sign.');
  }
}

/** A BBQr transfer (Coldcard Q, Sparrow, SeedSigner, Nunchuk): a PSBT, or a request file (JSON, text). */
async function readBbqr(texts: string[], qr: QrImageReader | undefined): Promise<RequestPayload> {
  const { joinBbqr } = await import('../../qr/index.js');
  const { fileType, encoding, bytes } = joinBbqr(texts, qr?.deflate);
  const transport: Transport = { kind: 'qr', frames: texts.length, bbqr: encoding };
  if (fileType === 'P') return { chain: 'btc', psbt: bytes, transport };
  if (fileType === 'T')
    throw makeError('INPUT_UNRECOGNIZED', 'This BBQr holds a transaction, not a request to sign.');
  return detectPayload(bytes, transport);
}

/** The QR texts of a transfer: decoded from QR images, or read from files of UR parts, in the order given. */
export async function readTransferTexts(
  inputs: InputFile[],
  qr: QrImageReader | undefined,
  onProgress: (done: number, total: number) => void = () => {},
  kinds: InputKind[] = inputs.map((i) => inputKind(i.bytes)),
): Promise<string[]> {
  const texts: string[] = [];
  for (const [index, input] of inputs.entries()) {
    if (kinds[index] === 'ur-text') texts.push(...collectPartsFromText(asText(input.bytes) ?? ''));
    else if (kinds[index] === 'image') {
      if (!qr) throw makeError('INTERNAL', 'No QR decoder is available.');
      try {
        texts.push(...(await qr.readImage(input.bytes)));
      } catch (error) {
        if (error instanceof Error && 'code' in error) error.message = `${input.name}: ${error.message}`;
        throw error;
      }
    } else throw makeError('REQUEST_INVALID', `${input.name} is neither a QR image nor a file of UR parts.`);
    onProgress(index + 1, inputs.length);
  }
  return texts;
}

/** Detects a request from its bytes: PSBT (BIP-174 binary, base64 or hex), a Bitcoin message request or an EVM request. */
export function detectPayload(bytes: Uint8Array, transport: Transport): RequestPayload {
  // BIP-174: a PSBT starts with the magic bytes "psbt" 0xff (also as base64 or hex text).
  if (looksLikePsbt(bytes)) return { chain: 'btc', psbt: bytes, transport };
  const text = asText(bytes)?.trim();
  if (text !== undefined) {
    // A Bitcoin message request (`"type": "bip322"`), before the EVM JSON documents.
    if (looksLikeBtcMessageRequest(text)) return { chain: 'btc', messageRequest: bytes, transport };
    if (text.startsWith('{') || /^(0x)?[0-9a-fA-F]+$/.test(text)) return { chain: 'evm', bytes, transport };
    throw makeError('INPUT_UNRECOGNIZED', NOT_A_REQUEST);
  }
  // EIP-2718 typed envelope (0x01–0x04) or a legacy RLP list (≥ 0xc0) given as binary.
  const first = bytes[0] ?? 0;
  if ((first >= 0x01 && first <= 0x04) || first >= 0xc0) return { chain: 'evm', bytes, transport };
  throw makeError('INPUT_UNRECOGNIZED', NOT_A_REQUEST);
}

function asText(bytes: Uint8Array): string | undefined {
  try {
    const text = utf8.decode(bytes);
    // control characters other than white space mean binary
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) return undefined;
    }
    return text;
  } catch {
    return undefined;
  }
}
