/** `coldsign qr encode|decode`: files to QR frames (animated UR when needed) and back. */
import { mkdirSync } from 'node:fs';
import { decodePsbtTransport } from '../../chains/btc/index.js';
import { makeError } from '../../core/errors.js';
import { detectPayload, inputKind, readTransferTexts } from '../../core/pipeline/intake.js';
import { nodeQrReader } from '../../appliance/qr-reader.js';
import { bytesOfUr, bytesUrParts } from '../../appliance/qr-transfer.js';
import {
  collectPartsFromText,
  DEFAULT_FRAGMENT_BYTES,
  interpretUr,
  psbtToUr,
  assembleUr,
} from '../../qr/index.js';
import { checkOutputPath, readInputs, writeOutputFile } from '../files.js';
import { printJson, println, progress } from '../output.js';
import { writeQrFrames } from './requests.js';

const ENCODE_TYPES = ['crypto-psbt', 'psbt', 'bytes'] as const;

export async function qrEncodeCommand(
  file: string,
  options: { out: string; urType?: string; fragment?: number; force?: boolean; json?: boolean },
): Promise<void> {
  checkOutputPath(options.out, options.force);
  const [input] = readInputs([file]);
  const bytes = input!.bytes;
  const fragment = options.fragment ?? DEFAULT_FRAGMENT_BYTES;
  let parts: string[];
  let type: string;
  if (inputKind(bytes) === 'ur-text') {
    if (options.urType)
      throw makeError('USAGE', 'The file already holds UR parts; --ur-type does not apply.');
    parts = collectPartsFromText(new TextDecoder().decode(bytes));
    type = parts[0]!.slice(3, parts[0]!.indexOf('/'));
  } else {
    type = options.urType ?? (isPsbt(bytes) ? 'crypto-psbt' : 'bytes');
    if (!(ENCODE_TYPES as readonly string[]).includes(type)) {
      throw makeError(
        'USAGE',
        `--ur-type must be one of ${ENCODE_TYPES.join(', ')} (eth-sign-request files come from the online wallet as UR parts).`,
      );
    }
    if (type === 'bytes') {
      parts = bytesUrParts(bytes, fragment);
    } else {
      if (!isPsbt(bytes))
        throw makeError('PSBT_INVALID', `${file} is not a PSBT, so it cannot be a ${type} UR.`);
      const psbt = decodePsbtTransport(bytes).bytes;
      parts = psbtToUr(psbt, fragment, type === 'psbt' ? 'psbt' : 'crypto-psbt');
    }
  }
  mkdirSync(options.out, { recursive: true });
  const frames = await writeQrFrames(options.out, parts, undefined, options.force);
  if (options.json) return printJson({ type, frames, parts: parts.length });
  println(
    `${frames.length === 1 ? 'One QR frame' : `${frames.length} animated QR frames`} (${type}) written to ${options.out}.`,
  );
}

function isPsbt(bytes: Uint8Array): boolean {
  try {
    return 'psbt' in detectPayload(bytes, { kind: 'file' });
  } catch {
    return false;
  }
}

export async function qrDecodeCommand(
  images: string[],
  options: { out?: string; force?: boolean; json?: boolean },
): Promise<void> {
  if (options.out) checkOutputPath(options.out, options.force);
  const texts = await readTransferTexts(readInputs(images), nodeQrReader, progress('Decoding QR frames'));
  if (texts.length === 1 && !/^ur:/i.test(texts[0]!)) {
    if (options.out) writeOutputFile(options.out, `${texts[0]}\n`, options.force);
    if (options.json) return printJson({ type: 'text', frames: 1, text: texts[0], out: options.out ?? null });
    return println(options.out ? `A plain QR code (not a UR) was decoded to ${options.out}.` : texts[0]!);
  }
  // Every frame is fed, also after completion: a stray frame of another transfer is refused.
  const message = assembleUr(texts);
  const ur = interpretUr(message);
  // PSBTs come out as BIP-174 bytes, bytes URs as their content, other types as their CBOR.
  const payload = ur.kind === 'psbt' ? ur.psbt : ur.kind === 'bytes' ? bytesOfUr(ur.cbor) : message.cbor;
  if (options.out) writeOutputFile(options.out, payload, options.force);
  if (options.json)
    return printJson({
      type: message.type,
      frames: texts.length,
      bytes: payload.length,
      out: options.out ?? null,
    });
  println(
    `Decoded a ${message.type} UR from ${texts.length} frame(s): ${payload.length} bytes${options.out ? `, written to ${options.out}` : ''}.`,
  );
}
