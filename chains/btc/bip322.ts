/**
 * Bitcoin message signing (pure): BIP-322 "simple" signatures for P2WPKH keys, and the legacy Bitcoin
 * Signed Message (the `signmessage` format, with BIP-137 headers for segwit addresses). The chain computes the
 * 32-byte digest; the HSM signs it through the DigestSigner seam; every signature is verified before it is
 * returned.
 */
import { crypto as bcrypto, payments, Transaction } from 'bitcoinjs-lib';
import { concatBytes, toHex } from '../../core/bytes.js';
import { makeError } from '../../core/errors.js';
import { nobleVerifier, type Secp256k1Verifier } from '../../core/signature.js';
import type { BtcScriptType, DigestSigner } from '../../core/signer.js';
import { encodeBase64 } from './encoding.js';
import { serializeWitness } from './finalize.js';

/** Longest message signed (a Travel Rule proof or an exchange challenge is a few hundred bytes). */
export const MAX_MESSAGE_BYTES = 64 * 1024;

function checkMessage(message: Uint8Array): void {
  if (message.length > MAX_MESSAGE_BYTES) {
    throw makeError(
      'REQUEST_INVALID',
      `The message has ${message.length} bytes; at most ${MAX_MESSAGE_BYTES} are signed.`,
    );
  }
}

const TAG = bcrypto.sha256(new TextEncoder().encode('BIP0322-signed-message'));

/** BIP-322: message_hash = SHA256(SHA256(tag) ‖ SHA256(tag) ‖ message), tag "BIP0322-signed-message". */
export function bip322MessageHash(message: Uint8Array): Uint8Array {
  return bcrypto.sha256(concatBytes(TAG, TAG, message));
}

/**
 * BIP-322 to_spend: version 0, locktime 0; one input spending 000…000:0xFFFFFFFF with sequence 0 and scriptSig
 * OP_0 PUSH32[message_hash]; one output of 0 sat paying the message challenge (the address's script).
 */
export function bip322ToSpend(message: Uint8Array, challenge: Uint8Array): Transaction {
  const tx = new Transaction();
  tx.version = 0;
  tx.locktime = 0;
  tx.addInput(
    new Uint8Array(32),
    0xffffffff,
    0,
    concatBytes(Uint8Array.of(0x00, 0x20), bip322MessageHash(message)),
  );
  tx.addOutput(challenge, 0n);
  return tx;
}

/** BIP-322 to_sign: version 0, locktime 0; spends to_spend:0 with sequence 0; one 0-sat OP_RETURN output. */
export function bip322ToSign(toSpend: Transaction): Transaction {
  const tx = new Transaction();
  tx.version = 0;
  tx.locktime = 0;
  tx.addInput(toSpend.getHash(), 0, 0);
  tx.addOutput(Uint8Array.of(0x6a), 0n);
  return tx;
}

export interface Bip322Digest {
  /** BIP-143 SIGHASH_ALL digest of to_sign's input (amount 0, scriptCode of the P2WPKH key). */
  digest: Uint8Array;
  toSpendTxid: string;
  toSignTxid: string;
}

/** The digest a P2WPKH key signs for a BIP-322 simple signature of `message`. */
export function bip322P2wpkhDigest(message: Uint8Array, publicKey: Uint8Array): Bip322Digest {
  checkMessage(message);
  const challenge = payments.p2wpkh({ pubkey: publicKey }).output!;
  const toSpend = bip322ToSpend(message, challenge);
  const toSign = bip322ToSign(toSpend);
  // BIP-143 scriptCode of P2WPKH: the P2PKH script of the key.
  const scriptCode = payments.p2pkh({ pubkey: publicKey }).output!;
  const digest = toSign.hashForWitnessV0(0, scriptCode, 0n, Transaction.SIGHASH_ALL);
  return { digest, toSpendTxid: toSpend.getId(), toSignTxid: toSign.getId() };
}

/** Legacy Bitcoin Signed Message digest: SHA256d(varstr("Bitcoin Signed Message:\n") ‖ varstr(message)). */
export function legacyMessageDigest(message: Uint8Array): Uint8Array {
  checkMessage(message);
  const magic = new TextEncoder().encode('\x18Bitcoin Signed Message:\n');
  return bcrypto.hash256(concatBytes(magic, compactSize(message.length), message));
}

function compactSize(n: number): Uint8Array {
  if (n < 0xfd) return Uint8Array.of(n);
  if (n <= 0xffff) return Uint8Array.of(0xfd, n & 0xff, n >>> 8);
  return Uint8Array.of(0xfe, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
}

/** BIP-137 header base per script of a compressed key: P2PKH 31, P2SH-P2WPKH 35, P2WPKH 39 (+ recovery id). */
const LEGACY_HEADER: Record<BtcScriptType, number> = { p2pkh: 31, 'p2sh-p2wpkh': 35, p2wpkh: 39 };

export type MessageFormat = 'bip322' | 'legacy';

export interface MessageSignature {
  format: MessageFormat;
  /** Base64: BIP-322 the serialized witness stack; legacy the 65-byte header ‖ r ‖ s. */
  signature: string;
  /** The digest that was signed (hex), for the audit log. */
  digest: string;
}

export interface MessageKey {
  keyId: string;
  /** Compressed SEC1. */
  publicKey: Uint8Array;
  script: BtcScriptType;
}

function recoversTo(
  verifier: Secp256k1Verifier,
  compact: Uint8Array,
  recovery: 0 | 1,
  digest: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  const recovered = verifier.recover(compact, recovery, digest);
  if (!recovered || recovered.length !== 65) return false;
  // Compressed form of the recovered uncompressed point (SEC1): 02/03 by the parity of y, then x.
  const compressed = concatBytes(Uint8Array.of(2 + (recovered[64]! & 1)), recovered.subarray(1, 33));
  return toHex(compressed) === toHex(publicKey);
}

/**
 * Signs `message` with `key` through the HSM seam. BIP-322 simple signatures exist for P2WPKH keys only here
 * (P2SH-P2WPKH and P2PKH need the "full" form, a whole transaction); the legacy format serves every key type.
 */
export async function signBtcMessage(
  message: Uint8Array,
  key: MessageKey,
  format: MessageFormat,
  signer: DigestSigner,
  verifier: Secp256k1Verifier = nobleVerifier,
): Promise<MessageSignature> {
  if (format === 'bip322' && key.script !== 'p2wpkh') {
    throw makeError(
      'REQUEST_INVALID',
      'A BIP-322 simple signature needs a P2WPKH key; use the legacy format for P2PKH and P2SH-P2WPKH keys.',
    );
  }
  const digest =
    format === 'bip322' ? bip322P2wpkhDigest(message, key.publicKey).digest : legacyMessageDigest(message);
  const normalized = await signer.signDigest(key.keyId, key.publicKey, digest);
  const compact = concatBytes(normalized.r, normalized.s);
  // Verified here as well as in the signer: nothing leaves that does not verify under the key.
  if (!verifier.verify(compact, digest, key.publicKey)) {
    throw makeError('HSM_SIGNATURE_INVALID', 'The message signature does not verify; nothing was signed.');
  }
  // BIP-137: a legacy verifier recovers the key from the header's recovery id; it must give our key back.
  if (format === 'legacy' && !recoversTo(verifier, compact, normalized.recovery, digest, key.publicKey)) {
    throw makeError(
      'HSM_SIGNATURE_INVALID',
      'The message signature does not recover to our key; nothing was signed.',
    );
  }
  let signature: Uint8Array;
  if (format === 'bip322') {
    // BIP-322 simple: the to_sign witness (signature with SIGHASH_ALL, public key), consensus-serialized.
    signature = serializeWitness([
      concatBytes(normalized.der, Uint8Array.of(Transaction.SIGHASH_ALL)),
      key.publicKey,
    ]);
  } else {
    signature = concatBytes(Uint8Array.of(LEGACY_HEADER[key.script] + normalized.recovery), compact);
  }
  return { format, signature: encodeBase64(signature), digest: toHex(digest) };
}
