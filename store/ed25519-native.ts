/**
 * Ed25519 verification (RFC 8032) through Node's OpenSSL: the policy in force is re-verified on every
 * unlock, and the pure-JavaScript verifier's first call costs tens of milliseconds of table set-up.
 * OpenSSL checks RFC 8032 strictly (canonical S and point encodings): signatures made by any
 * RFC 8032 signer verify.
 */
import { createPublicKey, verify } from 'node:crypto';
import type { Ed25519Verify } from '../policy/signing.js';

/** DER SubjectPublicKeyInfo header of a raw 32-byte Ed25519 key (RFC 8410 §4, OID 1.3.101.112). */
const ED25519_SPKI_HEADER = Buffer.from('302a300506032b6570032100', 'hex');

export const nativeEd25519Verify: Ed25519Verify = (signature, message, publicKey) => {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  const key = createPublicKey({
    key: Buffer.concat([ED25519_SPKI_HEADER, publicKey]),
    format: 'der',
    type: 'spki',
  });
  return verify(null, message, key, signature);
};
