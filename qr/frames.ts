/**
 * The two ends of a QR transfer as the CLI and the app use them: UR parts → numbered PNG frames (SPEC `--qr DIR`:
 * frame-0001.png, …), and image files → one reassembled UR message, routed by its declared type.
 */
import { makeError, isColdsignError } from '../core/errors.js';
import { UrAssembler } from './assembler.js';
import { decodeImageFile } from './image.js';
import { renderQrPng, type QrRenderOptions } from './render.js';
import {
  decodeCryptoPsbt,
  decodeEthSignRequest,
  decodeEthSignature,
  type EthSignRequestFields,
  type UrMessage,
} from './ur.js';
import type { QrDecoder } from './decoders.js';

export interface QrFrameFile {
  /** frame-0001.png, frame-0002.png, … */
  name: string;
  png: Uint8Array;
}

export function frameFileName(index: number): string {
  return `frame-${String(index + 1).padStart(4, '0')}.png`;
}

/** One PNG per UR part, named in display order. */
export function renderUrFrames(parts: string[], options: QrRenderOptions = {}): QrFrameFile[] {
  if (parts.length === 0) throw makeError('INPUT_EMPTY', 'Nothing to render: no UR part.');
  return parts.map((part, index) => ({ name: frameFileName(index), png: renderQrPng(part, options) }));
}

export interface ImageInput {
  /** Shown in error messages (a file name); never used to detect the format. */
  label: string;
  bytes: Uint8Array;
}

/**
 * Reads the QR codes of image files (the frames of one transfer, any order, repeats allowed) and reassembles the UR.
 * An image without a readable QR code is QR_UNREADABLE naming it; missing frames are QR_INCOMPLETE with the progress.
 */
export async function readUrFromImages(
  images: ImageInput[],
  decoder: QrDecoder,
  onProgress?: (fraction: number) => void,
): Promise<UrMessage> {
  if (images.length === 0) throw makeError('INPUT_EMPTY', 'No image was given.');
  const assembler = new UrAssembler();
  for (const image of images) {
    const texts = await decodeImageTexts(image, decoder);
    for (const text of texts) {
      try {
        assembler.receivePart(text);
      } catch (error) {
        throw labelled(error, image.label);
      }
    }
    onProgress?.(assembler.progress());
  }
  return assembler.result();
}

async function decodeImageTexts(image: ImageInput, decoder: QrDecoder): Promise<string[]> {
  try {
    return await decodeQrImage(image.bytes, decoder);
  } catch (error) {
    throw labelled(error, image.label);
  }
}

/** The same error with the file it concerns named first. */
function labelled(error: unknown, label: string): unknown {
  return isColdsignError(error)
    ? makeError(error.code, `${label}: ${error.message}`, error.info, error)
    : error;
}

/** A reassembled UR, interpreted by its declared type (parse, don't guess). */
export type UrPayload =
  | { kind: 'psbt'; type: 'crypto-psbt' | 'psbt'; psbt: Uint8Array }
  | { kind: 'eth-sign-request'; type: 'eth-sign-request'; request: EthSignRequestFields }
  | {
      kind: 'eth-signature';
      type: 'eth-signature';
      requestId?: Uint8Array;
      signature: Uint8Array;
      origin?: string;
    }
  | { kind: 'bytes'; type: 'bytes'; cbor: Uint8Array };

export function interpretUr(message: UrMessage): UrPayload {
  switch (message.type) {
    case 'crypto-psbt':
    case 'psbt':
      return { kind: 'psbt', type: message.type, psbt: decodeCryptoPsbt(message) };
    case 'eth-sign-request':
      return { kind: 'eth-sign-request', type: message.type, request: decodeEthSignRequest(message) };
    case 'eth-signature':
      return { kind: 'eth-signature', type: message.type, ...decodeEthSignature(message) };
    case 'bytes':
      // BCR-2020-005: `bytes` exists for testing only; callers must not treat it as a signing request.
      return { kind: 'bytes', type: message.type, cbor: message.cbor };
    default:
      throw makeError(
        'QR_UNSUPPORTED_TYPE',
        `The UR type "${String((message as UrMessage).type)}" is not supported.`,
      );
  }
}

/** The QR texts in a PNG or JPEG file; QR_UNREADABLE when the image holds no readable QR code. */
export async function decodeQrImage(bytes: Uint8Array, decoder: QrDecoder): Promise<string[]> {
  const image = decodeImageFile(bytes);
  const texts = await decoder.decode(image.data, image.width, image.height);
  if (texts.length === 0) throw makeError('QR_UNREADABLE', 'No readable QR code was found in the image.');
  return texts;
}
