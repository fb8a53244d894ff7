/** Decoding of CKA_EC_POINT, which tokens return DER-wrapped (PKCS#11 v2.40 §2.3.3) or raw (some HSMs). */
import { DER } from '@noble/curves/abstract/der.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/curves/utils.js';
import { makeError } from '../core/errors.js';

/** DER OID 1.3.132.0.10 (secp256k1, SEC 2 §2.4.1) as CKA_EC_PARAMS. */
export const SECP256K1_EC_PARAMS = Uint8Array.from([0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a]);

const OCTET_STRING = 0x04;

/** Returns the uncompressed 65-byte SEC1 point from a raw or DER OCTET STRING-wrapped CKA_EC_POINT. */
export function decodeEcPoint(value: Uint8Array): Uint8Array {
  const candidates: Uint8Array[] = [value];
  if (value[0] === OCTET_STRING) {
    try {
      const { v, l } = DER._tlv.decode(OCTET_STRING, value);
      if (l.length === 0) candidates.unshift(v);
    } catch {
      // not DER: a raw point that starts with 0x04
    }
  }
  for (const candidate of candidates) {
    try {
      return secp256k1.Point.fromBytes(candidate).toBytes(false);
    } catch {
      // try the next interpretation
    }
  }
  throw makeError(
    'HSM_CURVE_UNSUPPORTED',
    `The HSM returned an EC point that is not on secp256k1 (${bytesToHex(value.slice(0, 8))}…).`,
  );
}

export { bytesToHex, hexToBytes };
