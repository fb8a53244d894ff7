/**
 * Signing EVM requests through the DigestSigner (pure): the chain computes the digest, the HSM signs it,
 * and nothing leaves until the signature recovers to the key's public key (hence its address).
 */
import { parseTransaction, serializeTransaction, type Hex, type TransactionSerializable } from 'viem';
import { concatBytes, equalBytes, fromHex, toHex as nativeHex } from '../../core/bytes.js';
import { makeError } from '../../core/errors.js';
import { lowS, nobleVerifier, type Secp256k1Verifier } from '../../core/signature.js';
import type { DigestSigner } from '../../core/signer.js';
import { checksumLowerHex, evmKeyPoint, sameAddress } from './address.js';
import { keccak256Bytes } from './keccak.js';
import { appendSignature } from './signed-tx.js';
import { evmDigest, evmDigestBytes } from './summarize.js';
import type { EvmSigningPlan, ParsedEvmRequest, SignedEvm } from './types.js';

const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

function refuse(message: string): never {
  throw makeError('HSM_SIGNATURE_INVALID', message);
}

function invalidSignature(message: string, cause?: unknown): never {
  throw makeError('EVM_SIGNATURE_INVALID', message, {}, cause);
}

/** Yellow Paper ecrecover: the lower-case address (no 0x) whose key produced r‖s with yParity over `digest`, or null. */
function recoverSigner(
  digest: Uint8Array,
  compact: Uint8Array,
  yParity: 0 | 1,
  verifier: Secp256k1Verifier,
): string | null {
  const publicKey = verifier.recover(compact, yParity, digest);
  if (!publicKey || publicKey.length !== 65) return null;
  return nativeHex(keccak256Bytes(publicKey.subarray(1)).subarray(12));
}

/** A signature scalar (RLP integer, at most 32 bytes) as a 32-byte big-endian word, or null when it is longer. */
function scalarWord(hex: string): Uint8Array | null {
  const digits = hex.slice(2);
  if (digits.length > 64 || !/^[0-9a-f]*$/i.test(digits)) return null;
  return fromHex(digits.padStart(64, '0'));
}

/**
 * Verifies a signed transaction against what was reviewed: EIP-155 chain id (legacy v = chainId·2+35/36; v 27/28
 * and chainId 0 refused), EIP-2 low-S, the unsigned content, and the recovered sender. Returns sender and hash.
 * Decoding and the unsigned re-serialization are viem's (the codec of the signing path).
 */
export function verifySignedTransaction(
  raw: string,
  expected: { chainId: bigint; address?: string; unsigned?: string },
  verifier: Secp256k1Verifier = nobleVerifier,
): { from: string; hash: string } {
  let tx: ReturnType<typeof parseTransaction>;
  let unsigned: string;
  try {
    tx = parseTransaction(raw as Hex);
    // The signed payload (EIP-155 / EIP-2718): the same fields without the signature.
    const { r: _r, s: _s, v: _v, yParity: _y, ...fields } = tx;
    unsigned = serializeTransaction(fields as TransactionSerializable);
  } catch (error) {
    invalidSignature('The signed transaction does not decode (malformed RLP or signature values).', error);
  }
  if (tx.r === undefined || tx.s === undefined || tx.yParity === undefined)
    invalidSignature('The transaction carries no signature.');
  // EIP-155: chainId 0 (or a pre-EIP-155 v of 27/28) can be replayed on every chain.
  const chainId = BigInt(tx.chainId ?? 0);
  if (chainId === 0n)
    invalidSignature('The signature commits to no chain id (EIP-155 replay protection missing).');
  if (chainId !== expected.chainId)
    invalidSignature(`The signature is for chain ${chainId}, not chain ${expected.chainId}.`);
  const r = scalarWord(tx.r);
  const s = scalarWord(tx.s);
  if (r === null || s === null) invalidSignature('The signature has an r or s value longer than 32 bytes.');
  // EIP-2: 0 < s ≤ secp256k1n / 2; r ≠ 0.
  const sValue = BigInt(`0x${nativeHex(s)}`);
  if (sValue === 0n || sValue > HALF_ORDER)
    invalidSignature('The signature has a high or zero s value (EIP-2).');
  if (r.every((byte) => byte === 0)) invalidSignature('The signature has a zero r value.');
  if (expected.unsigned !== undefined && unsigned !== expected.unsigned)
    invalidSignature('The signed transaction differs from the reviewed one.');
  const recovered = recoverSigner(
    keccak256Bytes(fromHex(unsigned.slice(2))),
    concatBytes(r, s),
    tx.yParity === 1 ? 1 : 0,
    verifier,
  );
  if (recovered === null) invalidSignature('The signature does not recover to any address.');
  const from = checksumLowerHex(recovered);
  if (expected.address !== undefined && !sameAddress(from, expected.address))
    invalidSignature(`The signature recovers to ${from}, not ${expected.address}.`);
  // EIP-2718: the transaction hash is keccak256 of the signed serialization.
  return { from, hash: `0x${nativeHex(keccak256Bytes(fromHex(raw.slice(2))))}` };
}

/**
 * The one check before a signature leaves (Yellow Paper ecrecover, EIP-155 yParity): the yParity for which the
 * low-S r‖s recovers to the key's own public key. A recovered key equal to the key is an ECDSA verification under
 * it (SEC 1 §4.1.6). When yParity 0 does not recover to the key, the signature is verified under the key (cheaper
 * than a second recovery): a valid signature whose R is not the even-y point of x = r has R = the odd-y one, so
 * yParity 1 recovers to the key. (SEC 1's other case, R.x = r + n, has probability about 2^-128 and no EIP-155
 * yParity at all: a node would refuse such a transaction, nothing would move.)
 */
function yParityToKey(
  compact: Uint8Array,
  digest: Uint8Array,
  publicKey: Uint8Array,
  verifier: Secp256k1Verifier,
): 0 | 1 {
  const recovered = verifier.recover(compact, 0, digest);
  // no point has x = r: no yParity can recover any key
  if (recovered === undefined) refuse('The signature does not recover to any key; nothing was signed.');
  if (equalBytes(recovered, publicKey)) return 0;
  if (verifier.verify(compact, digest, publicKey)) return 1;
  refuse('The signature recovers to another address than the key’s; nothing was signed.');
}

/** The HSM's signature as low-S r‖s (EIP-2): raw from the HSM when the signer offers it, else its normalized one. */
async function lowSSignature(
  signer: DigestSigner,
  plan: EvmSigningPlan,
  digest: Uint8Array,
): Promise<Uint8Array> {
  if (!signer.signRaw) {
    const normalized = await signer.signDigest(plan.keyId, fromHex(plan.publicKey), digest);
    return concatBytes(normalized.r, normalized.s);
  }
  const raw = await signer.signRaw(plan.keyId, digest);
  if (raw.length !== 64)
    refuse(`The HSM returned a ${raw.length}-byte signature; 64 bytes (r‖s) were expected.`);
  try {
    return lowS(raw);
  } catch {
    return refuse('The HSM returned a signature whose r or s is out of range; nothing was signed.');
  }
}

/**
 * Signs the request planned by summarizeEvm and verifies the result before returning it: EIP-2 low-S and one
 * ecrecover to the key's public key, whose address is the plan's. `verifier` does the recovery (the HSM layer
 * passes libsecp256k1).
 */
export async function signEvm(
  parsed: ParsedEvmRequest,
  plan: EvmSigningPlan,
  signer: DigestSigner,
  verifier: Secp256k1Verifier = nobleVerifier,
): Promise<SignedEvm> {
  const digest = evmDigest(parsed);
  if (digest !== plan.digest || parsed.kind !== plan.kind) {
    throw makeError(
      'STATE_INCONSISTENT',
      'The signing plan does not match the request (digest differs); nothing was signed.',
    );
  }
  if (parsed.from !== undefined && !sameAddress(parsed.from, plan.address)) {
    throw makeError('EVM_FROM_MISMATCH', 'The signing plan names a different key than the request’s "from".');
  }
  const { publicKey, address: keyAddress } = evmKeyPoint(plan.publicKey);
  if (publicKey.length !== 65 || !sameAddress(keyAddress, plan.address))
    refuse('The signing plan’s address is not the address of its public key; nothing was signed.');
  const digestBytes = evmDigestBytes(parsed);
  const compact = await lowSSignature(signer, plan, digestBytes);
  const yParity = yParityToKey(compact, digestBytes, publicKey, verifier);
  const rs = nativeHex(compact);
  const r = `0x${rs.slice(0, 64)}`;
  const s = `0x${rs.slice(64)}`;
  // EIP-191 / EIP-712 signatures are r‖s‖v with v = 27 + yParity.
  const signature = `0x${rs}${yParity === 0 ? '1b' : '1c'}`;
  const address = plan.address;
  if (parsed.kind !== 'transaction') return { signature, r, s, yParity, digest, address };

  // EIP-155 v for legacy transactions, yParity for typed ones.
  const v = parsed.txType === 0 ? parsed.fields.chainId * 2n + 35n + BigInt(yParity) : BigInt(yParity);
  // The signed bytes are the reviewed unsigned bytes with (v, r, s) appended: no re-serialization, no re-parse.
  const rawBytes = appendSignature(parsed.canonical, parsed.txType, {
    v,
    r: compact.subarray(0, 32),
    s: compact.subarray(32),
  });
  return {
    rawTransaction: `0x${nativeHex(rawBytes)}`,
    // EIP-2718: the transaction hash is keccak256 of the signed serialization.
    hash: `0x${nativeHex(keccak256Bytes(rawBytes))}`,
    signature,
    v: v.toString(),
    r,
    s,
    yParity,
    digest,
    address,
  };
}
