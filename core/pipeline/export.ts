/**
 * Export of a signed request: the output file's bytes in the requested format, and what to show as QR
 * (UR parts, animated when they do not fit one frame, or one plain QR text).
 */
import {
  decodePsbtTransport,
  encodePsbtTransport,
  MAX_BASE43_CHARS,
  type PsbtEncoding,
} from '../../chains/btc/encoding.js';
import { fromHex, toHex, utf8 } from '../bytes.js';
import { isColdsignError, makeError } from '../errors.js';
import type { PreparedRequest } from './prepare.js';
import type { SignedRequest } from './sign.js';

const noQr = {
  psbtToUr: (_psbt: Uint8Array, _fragment?: number, _type?: string): string[] => [],
  splitBbqr: (): string[] => [],
  ethSignatureToUr: (): string[] => [],
};

/** UR types of a signed PSBT: BCR-2020-006 crypto-psbt, or the newer psbt type (same CBOR payload). */
export const PSBT_UR_TYPES = ['crypto-psbt', 'psbt'] as const;
export type PsbtUrType = (typeof PSBT_UR_TYPES)[number];

export const OUTPUT_FORMATS = ['auto', 'psbt', 'base64', 'hex', 'base43', 'ur', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface ExportedOutput {
  bytes: Uint8Array;
  format: Exclude<OutputFormat, 'auto'>;
  mime: string;
  /** File name suffix, e.g. ".signed.psbt". */
  suffix: string;
  description: string;
  /** UR parts to show as QR frames (one part when it fits one frame); empty unless asked for. */
  urParts: string[];
}

/** Longest text shown as one plain QR frame (a version-25 symbol at error correction L holds about 1,850 bytes). */
const MAX_PLAIN_QR_CHARS = 1800;

/** `withQr`: also compute the UR parts for QR frames (the UR libraries load only then). */
export async function exportSigned(
  prepared: PreparedRequest,
  signed: SignedRequest,
  format: OutputFormat,
  options: { fragmentBytes?: number; withQr?: boolean; urType?: PsbtUrType } = {},
): Promise<ExportedOutput> {
  const { fragmentBytes } = options;
  const viaQr = prepared.payload.transport.kind === 'qr';
  const needUr =
    options.withQr ||
    format === 'ur' ||
    (format === 'auto' && (viaQr || 'ethSignRequest' in prepared.payload));
  const bbqr = prepared.payload.transport.kind === 'qr' ? prepared.payload.transport.bbqr : undefined;
  const { ethSignatureToUr, psbtToUr, splitBbqr } = needUr || bbqr ? await import('../../qr/index.js') : noQr;
  if ('btcMessage' in signed && prepared.chain === 'btc' && prepared.kind === 'message')
    return exportBtcMessage(prepared, signed.btcMessage, format);
  if ('btc' in signed && prepared.chain === 'btc' && prepared.kind === 'psbt') {
    const { btc } = signed;
    const binary = decodePsbtTransport(btc.psbt).bytes;
    // The UR type asked for; else the type the request came in (psbt answers psbt), else crypto-psbt
    const urType: PsbtUrType =
      options.urType ??
      (prepared.payload.transport.kind === 'qr' && prepared.payload.transport.urType === 'psbt'
        ? 'psbt'
        : 'crypto-psbt');
    // Electrum's base43 (QR text) is answered as base43, however it arrived; Electrum reads it back
    const chosen =
      format === 'auto'
        ? btc.encoding !== 'base43' && prepared.payload.transport.kind === 'qr'
          ? 'ur'
          : encodingFormat(btc.encoding)
        : format;
    // A PSBT that came as BBQr is answered as BBQr (hex when it came as hex, else base32: no compression here)
    const encodeParts = () =>
      bbqr ? splitBbqr(binary, 'P', bbqr === 'H' ? 'H' : '2') : psbtToUr(binary, fragmentBytes, urType);
    const urParts = chosen === 'ur' ? encodeParts() : partsForDisplay(encodeParts);
    const txNote = btc.finalTxHex ? `; fully signed, transaction ${btc.txid}` : '';
    switch (chosen) {
      case 'psbt':
        return out(
          binary,
          'psbt',
          'application/octet-stream',
          '.signed.psbt',
          `signed PSBT (binary)${txNote}`,
          urParts,
        );
      case 'base64':
        return out(
          encodePsbtTransport(binary, 'base64'),
          'base64',
          'text/plain',
          '.signed.psbt.txt',
          `signed PSBT (base64)${txNote}`,
          urParts,
        );
      case 'hex':
        return out(
          encodePsbtTransport(binary, 'hex'),
          'hex',
          'text/plain',
          '.signed.psbt.hex',
          `signed PSBT (hex)${txNote}`,
          urParts,
        );
      case 'base43': {
        // Electrum's QR text (base43), which Electrum's "Load transaction" reads back; one QR code when it fits
        const text = encodePsbtTransport(binary, 'base43');
        return out(
          text,
          'base43',
          'text/plain',
          '.signed.psbt.base43.txt',
          `signed PSBT (base43, Electrum)${txNote}`,
          text.length <= MAX_BASE43_CHARS ? [new TextDecoder().decode(text)] : urParts,
        );
      }
      case 'ur':
        return out(
          lines(urParts),
          'ur',
          'text/plain',
          bbqr ? '.signed.bbqr.txt' : '.signed.ur.txt',
          `signed PSBT as ${urParts.length} ${bbqr ? 'BBQr frame' : `${urType} UR part`}(s)${txNote}`,
          urParts,
        );
      case 'json':
        return out(
          json({
            psbt: new TextDecoder().decode(encodePsbtTransport(binary, 'base64')),
            txHex: btc.finalTxHex ?? null,
            txid: btc.txid ?? null,
          }),
          'json',
          'application/json',
          '.signed.json',
          `signed PSBT (JSON)${txNote}`,
          urParts,
        );
    }
  }
  if (signed.chain === 'evm' && prepared.chain === 'evm') {
    const { evm } = signed;
    const fromUr = 'ethSignRequest' in prepared.payload;
    const requestId =
      'ethSignRequest' in prepared.payload ? prepared.payload.ethSignRequest.requestId : undefined;
    const origin = 'ethSignRequest' in prepared.payload ? prepared.payload.ethSignRequest.origin : undefined;
    // ERC-4527 eth-signature: r‖s‖v, with v as the transaction carries it (EIP-155 for legacy, yParity for typed).
    const v = evm.v !== undefined ? BigInt(evm.v) : BigInt(27 + evm.yParity);
    const vHex = v.toString(16);
    const rsv = fromHex(`${strip(evm.r)}${strip(evm.s)}${vHex.length % 2 ? `0${vHex}` : vHex}`);
    const primary = evm.rawTransaction ?? evm.signature ?? `0x${toHex(rsv)}`;
    const plainParts = primary.length <= MAX_PLAIN_QR_CHARS ? [primary] : [];
    const urParts =
      fromUr || (plainParts.length === 0 && needUr)
        ? ethSignatureToUr(requestId, rsv, origin, fragmentBytes)
        : plainParts;
    const chosen = format === 'auto' ? (fromUr ? 'ur' : 'hex') : format;
    const what = evm.rawTransaction
      ? `signed transaction (hash ${evm.hash})`
      : `65-byte signature by ${evm.address}`;
    switch (chosen) {
      case 'hex':
        return out(
          utf8(`${primary}\n`),
          'hex',
          'text/plain',
          evm.rawTransaction ? '.signed-tx.hex' : '.signature.hex',
          what,
          urParts,
        );
      case 'ur': {
        const parts = ethSignatureToUr(requestId, rsv, origin, fragmentBytes);
        return out(
          lines(parts),
          'ur',
          'text/plain',
          '.eth-signature.ur.txt',
          `${what} as an eth-signature UR`,
          parts,
        );
      }
      case 'json':
        return out(
          json({
            rawTransaction: evm.rawTransaction ?? null,
            hash: evm.hash ?? null,
            signature: evm.signature ?? `0x${toHex(rsv)}`,
            address: evm.address,
          }),
          'json',
          'application/json',
          '.signed.json',
          what,
          urParts,
        );
      default:
        throw makeError('USAGE', `--format ${chosen} is for PSBTs; EVM results are hex, ur or json.`);
    }
  }
  throw makeError('INTERNAL', 'The signed result does not match its request.');
}

/**
 * A signed Bitcoin message: `{"type":"bip322","address","message","format","signature"}` (the message as the
 * request gave it: text, or hex with "encoding": "hex"); shown as one plain QR when it fits.
 */
function exportBtcMessage(
  prepared: Extract<PreparedRequest, { kind: 'message'; chain: 'btc' }>,
  signature: { format: string; signature: string },
  format: OutputFormat,
): ExportedOutput {
  if (format !== 'auto' && format !== 'json')
    throw makeError('USAGE', `--format ${format} is not for messages; a signed Bitcoin message is json.`);
  const { parsed } = prepared;
  const document = {
    type: 'bip322',
    address: parsed.address,
    message: parsed.encoding === 'hex' ? toHex(parsed.message) : new TextDecoder().decode(parsed.message),
    ...(parsed.encoding === 'hex' ? { encoding: 'hex' } : {}),
    format: signature.format,
    signature: signature.signature,
  };
  const bytes = json(document);
  const text = JSON.stringify(document);
  const what = signature.format === 'bip322' ? 'BIP-322 simple' : 'legacy (BIP-137)';
  return out(
    bytes,
    'json',
    'application/json',
    '.signed-message.json',
    `${what} message signature by ${parsed.address}`,
    text.length <= MAX_PLAIN_QR_CHARS ? [text] : [],
  );
}

/**
 * QR parts shown beside an output file: none when the result needs more animated-UR frames than a reader accepts
 * (the file carries it; the app then says so, the CLI's `--qr` refuses).
 */
function partsForDisplay(encode: () => string[]): string[] {
  try {
    return encode();
  } catch (error) {
    if (isColdsignError(error) && error.code === 'QR_OUTPUT_TOO_LARGE') return [];
    throw error;
  }
}

/**
 * Before anything is signed: refuses (QR_OUTPUT_TOO_LARGE) a PSBT whose answer must be an animated UR (`withQr`,
 * `--format ur`, or `auto` for a request that came by UR) when the unsigned PSBT alone already needs more frames than
 * a reader accepts. Without finalizing, signing only adds partial signatures (BIP-174), so the unsigned size is a
 * lower bound of the answer's; a finalized answer may shrink, so it is checked only once made.
 */
export async function refuseOversizedQrAnswer(
  prepared: PreparedRequest,
  format: OutputFormat,
  options: { fragmentBytes?: number; withQr?: boolean; finalize?: boolean } = {},
): Promise<void> {
  if (prepared.chain !== 'btc' || !('psbt' in prepared.payload)) return;
  const { transport } = prepared.payload;
  if (transport.kind === 'qr' && transport.bbqr) return;
  if (options.finalize === true || format === 'json') return;
  const unsigned = decodePsbtTransport(prepared.payload.psbt);
  const answersAsUr =
    format === 'ur' || (format === 'auto' && transport.kind === 'qr' && unsigned.encoding !== 'base43');
  if (!options.withQr && !answersAsUr) return;
  const { checkFitsAnimatedQr, psbtCbor, DEFAULT_FRAGMENT_BYTES } = await import('../../qr/index.js');
  try {
    checkFitsAnimatedQr(psbtCbor(unsigned.bytes).length, options.fragmentBytes ?? DEFAULT_FRAGMENT_BYTES);
  } catch (error) {
    if (!isColdsignError(error)) throw error;
    throw makeError(
      error.code,
      `The signed PSBT would be too large for an animated QR (${String(error.info.fragments)} frames of ${String(error.info.fragmentBytes)} bytes, more than the ${String(error.info.maxFragments)} a reader accepts): ask for file output only (no --qr, --format psbt or base64); nothing was signed.`,
      error.info,
    );
  }
}

function encodingFormat(encoding: PsbtEncoding): 'psbt' | 'base64' | 'hex' | 'base43' {
  return encoding === 'binary' ? 'psbt' : encoding;
}

function strip(hex: string): string {
  return hex.replace(/^0x/, '').padStart(64, '0');
}

function lines(parts: string[]): Uint8Array {
  return utf8(`${parts.join('\n')}\n`);
}

function json(value: unknown): Uint8Array {
  return utf8(`${JSON.stringify(value, null, 2)}\n`);
}

function out(
  bytes: Uint8Array,
  format: ExportedOutput['format'],
  mime: string,
  suffix: string,
  description: string,
  urParts: string[],
): ExportedOutput {
  return { bytes, format, mime, suffix, description, urParts };
}
