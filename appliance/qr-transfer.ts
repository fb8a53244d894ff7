/**
 * The `bytes` UR (BCR-2020-006: a CBOR byte string) as `qr encode` and `qr decode` use it: the UR registry
 * library stays behind the appliance, like every other UR type.
 */
import { Bytes } from '@keystonehq/bc-ur-registry';
import { makeError } from '../core/errors.js';
import { encodeUrParts } from '../qr/index.js';

/** UR parts of a `bytes` UR holding `bytes` (animated when longer than one fragment). */
export function bytesUrParts(bytes: Uint8Array, fragmentBytes: number): string[] {
  return encodeUrParts('bytes', new Uint8Array(new Bytes(Buffer.from(bytes)).toCBOR()), fragmentBytes);
}

/** The content of a `bytes` UR's CBOR, or UR_INVALID. */
export function bytesOfUr(cbor: Uint8Array): Uint8Array {
  try {
    return new Uint8Array(Bytes.fromCBOR(Buffer.from(cbor)).getData());
  } catch {
    throw makeError('UR_INVALID', 'The bytes UR does not hold a CBOR byte string.');
  }
}
