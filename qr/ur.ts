/**
 * The CBOR registry types carried in URs, over @keystonehq/bc-ur-registry(-eth): crypto-psbt / psbt (BCR-2020-006)
 * and eth-sign-request / eth-signature (ERC-4527). Part syntax and fountain codes are in ur-parts.ts.
 */
import { CryptoPSBT } from '@keystonehq/bc-ur-registry';
import { EthSignRequest, ETHSignature } from '@keystonehq/bc-ur-registry-eth';
import { makeError, isColdsignError } from '../core/errors.js';
import { equalBytes, toHex } from '../core/bytes.js';
import {
  DEFAULT_FRAGMENT_BYTES,
  decodeSinglePartUr,
  encodeUrParts,
  toBuffer,
  toU8,
  type UrMessage,
  type UrType,
} from './ur-parts.js';

export * from './ur-parts.js';

/** The UR payload of a PSBT: a CBOR byte string (BCR-2020-006 crypto-psbt; the newer psbt type has the same payload). */
export function psbtCbor(psbt: Uint8Array): Uint8Array {
  if (psbt.length === 0) throw makeError('INPUT_EMPTY', 'Nothing to encode: the PSBT is empty.');
  return toU8(new CryptoPSBT(toBuffer(psbt)).toCBOR());
}

/** A PSBT (BIP-174 bytes) as crypto-psbt (default) or psbt UR parts. */
export function psbtToUr(
  psbt: Uint8Array,
  maxFragment = DEFAULT_FRAGMENT_BYTES,
  type: 'crypto-psbt' | 'psbt' = 'crypto-psbt',
): string[] {
  return encodeUrParts(type, psbtCbor(psbt), maxFragment);
}

/** Longest v accepted in an eth-signature: 8 bytes hold any EIP-155 v of a chain id below 2^63. */
const MAX_V_BYTES = 8;

/**
 * An eth-signature UR (ERC-4527): request-id (uuid), signature r‖s‖v, optional origin. v takes the bytes the
 * transaction needs: one for typed transactions and messages, more for EIP-155 legacy transactions on chain ids
 * above 110 (v = chainId × 2 + 35 + yParity > 255); readers such as MetaMask's keyring take every byte after 64 as v.
 */
export function ethSignatureToUr(
  requestId: Uint8Array | undefined,
  signature: Uint8Array,
  origin?: string,
  maxFragment = DEFAULT_FRAGMENT_BYTES,
): string[] {
  if (
    signature.length < 65 ||
    signature.length > 64 + MAX_V_BYTES ||
    (signature.length > 65 && signature[64] === 0)
  )
    throw makeError(
      'UR_INVALID',
      `An eth-signature carries r, s and a minimal v of 1 to ${MAX_V_BYTES} bytes, not ${signature.length} bytes.`,
    );
  if (requestId !== undefined && requestId.length !== 16)
    throw makeError('UR_INVALID', 'The eth-signature request id must be a 16-byte UUID.');
  const item = new ETHSignature(toBuffer(signature), requestId ? toBuffer(requestId) : undefined, origin);
  return encodeUrParts('eth-signature', toU8(item.toCBOR()), maxFragment);
}

function messageOf(ur: string | UrMessage): UrMessage {
  return typeof ur === 'string' ? decodeSinglePartUr(ur) : ur;
}

function expectType(message: UrMessage, allowed: UrType[]): void {
  if (!allowed.includes(message.type)) {
    throw makeError('QR_UNSUPPORTED_TYPE', `Expected a ${allowed.join(' or ')} UR, got ${message.type}.`, {
      type: message.type,
    });
  }
}

/** The PSBT carried by a crypto-psbt (BCR-2020-006) or psbt UR. The CBOR must be exactly one byte string. */
export function decodeCryptoPsbt(ur: string | UrMessage): Uint8Array {
  const message = messageOf(ur);
  expectType(message, ['crypto-psbt', 'psbt']);
  let psbt: Uint8Array;
  try {
    psbt = toU8(CryptoPSBT.fromCBOR(toBuffer(message.cbor)).getPSBT());
  } catch {
    throw makeError('UR_INVALID', 'The PSBT UR does not hold a CBOR byte string.');
  }
  // Reject trailing bytes and non-canonical encodings: re-encoding must give back the same CBOR (BCR-2020-005 deterministic CBOR).
  if (!equalBytes(toU8(new CryptoPSBT(toBuffer(psbt)).toCBOR()), message.cbor)) {
    throw makeError('UR_INVALID', 'The PSBT UR CBOR is not canonical or has trailing bytes.');
  }
  return psbt;
}

export interface EthSignRequestFields {
  requestId?: Uint8Array;
  signData: Uint8Array;
  dataType: 1 | 2 | 3 | 4;
  chainId?: number;
  derivationPath?: string;
  sourceFingerprint?: string;
  address?: string;
  origin?: string;
}

/** The fields of an ERC-4527 eth-sign-request. */
export function decodeEthSignRequest(ur: string | UrMessage): EthSignRequestFields {
  const message = messageOf(ur);
  expectType(message, ['eth-sign-request']);
  let request: EthSignRequest;
  try {
    request = EthSignRequest.fromCBOR(toBuffer(message.cbor));
  } catch {
    throw makeError('UR_INVALID', 'The eth-sign-request UR is not valid CBOR of the ERC-4527 shape.');
  }
  try {
    return readSignRequest(request, message.cbor);
  } catch (error) {
    if (isColdsignError(error)) throw error;
    throw makeError('UR_INVALID', 'The eth-sign-request UR has an invalid field.');
  }
}

function readSignRequest(request: EthSignRequest, cbor: Uint8Array): EthSignRequestFields {
  const dataType = request.getDataType() as number;
  // ERC-4527 sign-data-type: 1 legacy tx, 2 EIP-712 typed data, 3 raw bytes (EIP-191), 4 EIP-2718 typed tx.
  if (dataType !== 1 && dataType !== 2 && dataType !== 3 && dataType !== 4) {
    throw makeError('UR_INVALID', `The eth-sign-request data type ${String(dataType)} is not one of 1-4.`);
  }
  const signData = request.getSignData();
  if (!signData || signData.length === 0)
    throw makeError('UR_INVALID', 'The eth-sign-request carries no data to sign.');
  // Reject trailing bytes and extra or unknown keys: re-encoding must reproduce the CBOR byte for byte.
  if (!equalBytes(toU8(request.toCBOR()), cbor)) {
    throw makeError(
      'UR_INVALID',
      'The eth-sign-request CBOR is not canonical, has unknown keys or trailing bytes.',
    );
  }
  const requestId = request.getRequestId();
  // ERC-4527: request-id is a 16-byte UUID tagged #6.37.
  if (requestId !== undefined && requestId.length !== 16)
    throw makeError('UR_INVALID', 'The eth-sign-request request id is not a 16-byte UUID.');
  const chainId = request.getChainId();
  if (chainId !== undefined && (!Number.isSafeInteger(chainId) || chainId < 1))
    throw makeError('UR_INVALID', 'The eth-sign-request chain id is invalid.');
  const address = request.getSignRequestAddress();
  // ERC-4527: eth-address-bytes = bytes .size 20.
  if (address !== undefined && address.length !== 20)
    throw makeError('UR_INVALID', 'The eth-sign-request address is not 20 bytes.');
  const fields: EthSignRequestFields = { signData: toU8(signData), dataType };
  if (requestId !== undefined) fields.requestId = toU8(requestId);
  if (chainId !== undefined) fields.chainId = chainId;
  const path = request.getDerivationPath();
  if (path) fields.derivationPath = path.startsWith('m/') || path.startsWith('M/') ? path : `m/${path}`;
  const xfp = request.getSourceFingerprint();
  if (xfp && xfp.length > 0) fields.sourceFingerprint = toHex(toU8(xfp));
  if (address !== undefined) fields.address = `0x${toHex(toU8(address))}`;
  const origin = request.getOrigin();
  if (origin !== undefined) fields.origin = origin;
  return fields;
}

/** The fields of an ERC-4527 eth-signature (the appliance's own output, decoded for verification and tests). */
export function decodeEthSignature(ur: string | UrMessage): {
  requestId?: Uint8Array;
  signature: Uint8Array;
  origin?: string;
} {
  const message = messageOf(ur);
  expectType(message, ['eth-signature']);
  try {
    const item = ETHSignature.fromCBOR(toBuffer(message.cbor));
    const result: { requestId?: Uint8Array; signature: Uint8Array; origin?: string } = {
      signature: toU8(item.getSignature()),
    };
    const requestId = item.getRequestId();
    if (requestId !== undefined) result.requestId = toU8(requestId);
    const origin = item.getOrigin();
    if (origin !== undefined) result.origin = origin;
    return result;
  } catch {
    throw makeError('UR_INVALID', 'The eth-signature UR is not valid CBOR of the ERC-4527 shape.');
  }
}
