/**
 * Signing EVM requests through the DigestSigner (pure): the chain computes the digest, the HSM signs it,
 * and nothing leaves until the address recovered from the signature equals the key's address.
 */
import { Signature, Transaction, dataSlice, getAddress, getBytes, keccak256 } from 'ethers';
import { bytesToHex, concatBytes, fromHex } from '../../core/bytes.js';
import { makeError } from '../../core/errors.js';
import { nobleVerifier, type Secp256k1Verifier } from '../../core/signature.js';
import type { DigestSigner } from '../../core/signer.js';
import { sameAddress } from './address.js';
import { appendSignature } from './signed-tx.js';
import { evmDigest } from './summarize.js';
import type { EvmSigningPlan, ParsedEvmRequest, SignedEvm } from './types.js';

const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

function refuse(message: string): never {
  throw makeError('HSM_SIGNATURE_INVALID', message);
}

function invalidSignature(message: string, cause?: unknown): never {
  throw makeError('EVM_SIGNATURE_INVALID', message, {}, cause);
}

/** Yellow Paper ecrecover: the lower-case address whose key produced the compact r‖s with yParity over `digest`, or null. */
function recoverSigner(
  digest: Uint8Array,
  compact: Uint8Array,
  yParity: 0 | 1,
  verifier: Secp256k1Verifier,
): string | null {
  const publicKey = verifier.recover(compact, yParity, digest);
  if (!publicKey || publicKey.length !== 65) return null;
  return dataSlice(keccak256(publicKey.subarray(1)), 12);
}

/**
 * Verifies a signed transaction against what was reviewed: EIP-155 chain id (legacy v = chainId·2+35/36; v 27/28
 * and chainId 0 refused), EIP-2 low-S, the unsigned content, and the recovered sender. Returns sender and hash.
 */
export function verifySignedTransaction(
  raw: string,
  expected: { chainId: bigint; address?: string; unsigned?: string },
  verifier: Secp256k1Verifier = nobleVerifier,
): { from: string; hash: string } {
  let tx: Transaction;
  try {
    tx = Transaction.from(raw);
  } catch (error) {
    invalidSignature('The signed transaction does not decode (malformed RLP or signature values).', error);
  }
  const sig = tx.signature;
  if (!sig) invalidSignature('The transaction carries no signature.');
  // EIP-155: chainId 0 (or a pre-EIP-155 v of 27/28) can be replayed on every chain.
  if (tx.chainId === 0n)
    invalidSignature('The signature commits to no chain id (EIP-155 replay protection missing).');
  if (tx.chainId !== expected.chainId)
    invalidSignature(`The signature is for chain ${tx.chainId}, not chain ${expected.chainId}.`);
  // EIP-2: 0 < s ≤ secp256k1n / 2; r ≠ 0.
  const s = BigInt(sig._s);
  if (s === 0n || s > HALF_ORDER) invalidSignature('The signature has a high or zero s value (EIP-2).');
  if (BigInt(sig.r) === 0n) invalidSignature('The signature has a zero r value.');
  const unsigned = tx.unsignedSerialized;
  if (expected.unsigned !== undefined && unsigned !== expected.unsigned)
    invalidSignature('The signed transaction differs from the reviewed one.');
  const recovered = recoverSigner(
    getBytes(keccak256(unsigned)),
    getBytes(`${sig.r}${sig._s.slice(2)}`),
    sig.yParity,
    verifier,
  );
  if (recovered === null) invalidSignature('The signature does not recover to any address.');
  const from = getAddress(recovered);
  if (expected.address !== undefined && !sameAddress(from, expected.address))
    invalidSignature(`The signature recovers to ${from}, not ${expected.address}.`);
  // EIP-2718: the transaction hash is keccak256 of the signed serialization.
  return { from, hash: keccak256(raw) };
}

/**
 * Signs the request planned by summarizeEvm and verifies the result (EIP-2 low-S, ecrecover to the key's
 * address) before returning it. `verifier` does the recovery (the HSM layer passes libsecp256k1).
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
  const digestBytes = fromHex(digest);
  const normalized = await signer.signDigest(plan.keyId, fromHex(plan.publicKey), digestBytes);
  const r = `0x${bytesToHex(normalized.r)}`;
  const s = `0x${bytesToHex(normalized.s)}`;
  const yParity = normalized.recovery;
  // EIP-2: s must be in the lower half of the curve order.
  if (BigInt(s) > HALF_ORDER || BigInt(s) === 0n || BigInt(r) === 0n)
    refuse('The HSM signature is not a low-S signature; nothing was signed.');
  const signature = Signature.from({ r, s, yParity });
  // Yellow Paper ecrecover: the signature must yield the key's own address.
  const recovered = recoverSigner(digestBytes, concatBytes(normalized.r, normalized.s), yParity, verifier);
  if (recovered === null || !sameAddress(recovered, plan.address))
    refuse('The signature recovers to another address than the key’s; nothing was signed.');
  const address = plan.address;
  if (parsed.kind !== 'transaction')
    return { signature: signature.serialized, r, s, yParity, digest, address };

  // EIP-155 v for legacy transactions, yParity for typed ones.
  const v = parsed.txType === 0 ? parsed.fields.chainId * 2n + 35n + BigInt(yParity) : BigInt(yParity);
  // The signed bytes are the reviewed unsigned bytes with (v, r, s) appended: no re-serialization, no re-parse.
  const rawBytes = appendSignature(parsed.canonical, parsed.txType, { v, r: BigInt(r), s: BigInt(s) });
  const rawTransaction = `0x${bytesToHex(rawBytes)}`;
  return {
    rawTransaction,
    // EIP-2718: the transaction hash is keccak256 of the signed serialization.
    hash: keccak256(rawBytes),
    signature: signature.serialized,
    v: v.toString(),
    r,
    s,
    yParity,
    digest,
    address,
  };
}
