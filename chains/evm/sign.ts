/**
 * Signing EVM requests through the DigestSigner (pure): the chain computes the digest, the HSM signs it,
 * and nothing leaves until the recovered address equals the key's address.
 */
import { Signature, Transaction, recoverAddress, toBeHex, type SignatureLike } from 'ethers';
import { bytesToHex, fromHex } from '../../core/bytes.js';
import { makeError } from '../../core/errors.js';
import type { DigestSigner } from '../../core/signer.js';
import { sameAddress } from './address.js';
import { evmDigest } from './summarize.js';
import type { EvmSigningPlan, ParsedEvmRequest, SignedEvm } from './types.js';

const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

function refuse(message: string): never {
  throw makeError('HSM_SIGNATURE_INVALID', message);
}

/** Signs the request planned by summarizeEvm; verifies the signature (EIP-2 low-S, ecrecover) before returning. */
export async function signEvm(parsed: ParsedEvmRequest, plan: EvmSigningPlan, signer: DigestSigner): Promise<SignedEvm> {
  const digest = evmDigest(parsed);
  if (digest !== plan.digest || parsed.kind !== plan.kind) {
    throw makeError('STATE_INCONSISTENT', 'The signing plan does not match the request (digest differs); nothing was signed.');
  }
  if (parsed.from !== undefined && !sameAddress(parsed.from, plan.address)) {
    throw makeError('EVM_FROM_MISMATCH', 'The signing plan names a different key than the request’s "from".');
  }
  const normalized = await signer.signDigest(plan.keyId, fromHex(plan.publicKey), fromHex(digest));
  const r = `0x${bytesToHex(normalized.r)}`;
  const s = `0x${bytesToHex(normalized.s)}`;
  // EIP-2: s must be in the lower half of the curve order.
  if (BigInt(s) > HALF_ORDER || BigInt(s) === 0n || BigInt(r) === 0n) refuse('The HSM signature is not a low-S signature; nothing was signed.');
  const yParity = normalized.recovery;
  const sig: SignatureLike = Signature.from({ r, s, yParity });
  // Yellow Paper ecrecover: the signature must yield the key's own address.
  const recovered = recoverAddress(digest, sig);
  if (!sameAddress(recovered, plan.address)) refuse('The signature recovers to another address than the key’s; nothing was signed.');
  const signature = Signature.from(sig).serialized;
  if (parsed.kind !== 'transaction') return { signature, r, s, yParity, digest, address: recovered };

  const tx = parsed.tx.clone();
  tx.signature = Signature.from(sig);
  const rawTransaction = tx.serialized;
  // Re-parse the signed bytes: same unsigned content, same chain, low-S, same sender.
  let checked: { hash: string };
  try {
    checked = verifySignedTransaction(rawTransaction, { chainId: parsed.tx.chainId, address: plan.address, unsigned: parsed.tx.unsignedSerialized });
  } catch (error) {
    refuse(`The signed transaction does not verify (${(error as Error).message}); nothing was signed.`);
  }
  // EIP-155 v for legacy transactions, yParity for typed ones.
  const v = parsed.txType === 0 ? toBeHex(parsed.tx.chainId * 2n + 35n + BigInt(yParity)) : toBeHex(yParity);
  return { rawTransaction, hash: checked.hash, signature, v: BigInt(v).toString(), r, s, yParity, digest, address: recovered };
}

function invalidSignature(message: string, cause?: unknown): never {
  throw makeError('EVM_SIGNATURE_INVALID', message, {}, cause);
}

/**
 * Verifies a signed transaction against what was reviewed: EIP-155 chain id (legacy v = chainId·2+35/36; v 27/28
 * and chainId 0 refused), EIP-2 low-S, and the recovered sender. Returns the sender and the transaction hash.
 */
export function verifySignedTransaction(
  raw: string,
  expected: { chainId: bigint; address?: string; unsigned?: string },
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
  if (tx.chainId === 0n) invalidSignature('The signature commits to no chain id (EIP-155 replay protection missing).');
  if (tx.chainId !== expected.chainId) invalidSignature(`The signature is for chain ${tx.chainId}, not chain ${expected.chainId}.`);
  // EIP-2: s ≤ secp256k1n / 2.
  const s = BigInt(sig._s);
  if (s === 0n || s > HALF_ORDER) invalidSignature('The signature has a high or zero s value (EIP-2).');
  if (BigInt(sig.r) === 0n) invalidSignature('The signature has a zero r value.');
  if (expected.unsigned !== undefined && tx.unsignedSerialized !== expected.unsigned) invalidSignature('The signed transaction differs from the reviewed one.');
  let from: string;
  try {
    from = recoverAddress(tx.unsignedHash, sig);
  } catch (error) {
    invalidSignature('The signature does not recover to any address.', error);
  }
  if (expected.address !== undefined && !sameAddress(from, expected.address)) invalidSignature(`The signature recovers to ${from}, not ${expected.address}.`);
  return { from, hash: tx.hash! };
}
