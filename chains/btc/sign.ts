/**
 * signPsbt: our signatures over the planned inputs, through the HSM DigestSigner (pure: the signer is a seam).
 * Digests come from bitcoinjs-lib (BIP-143 for segwit v0, legacy otherwise) through its SignerAsync path;
 * every signature is checked with validateSignaturesOfInput before anything is returned.
 */
import type { Psbt } from 'bitcoinjs-lib';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { makeError, isColdsignError } from '../../core/errors.js';
import { concatBytes, toHex } from '../../core/bytes.js';
import type { DigestSigner } from '../../core/signer.js';
import { encodePsbtTransport, type PsbtEncoding } from './encoding.js';
import type { ParsedPsbt } from './parse.js';
import { installLinearSighash } from './sighash.js';
import type { BtcSignRequest, BtcSigningPlan } from './summarize.js';

export interface SignedPsbt {
  /** The signed PSBT as the bytes of the output file, in the request's encoding. */
  psbt: Uint8Array;
  encoding: PsbtEncoding;
  /** Raw signed transaction, when every input was complete and single-key (finalized and extracted). */
  finalTxHex?: string;
  txid?: string;
  /** Each signature made: DER with the sighash byte, as placed in the PSBT. */
  signatures: { input: number; publicKey: string; signature: string }[];
}

export interface SignOptions {
  /** Signatures in flight at once (default 8; the HSM session pool bounds real parallelism). */
  concurrency?: number;
}

/** ECDSA check used by validateSignaturesOfInput: low-S (BIP-62/146), against the key and the digest. */
function verifyEcdsa(publicKey: Uint8Array, digest: Uint8Array, signature: Uint8Array): boolean {
  return secp256k1.verify(signature, digest, publicKey, { prehash: false, lowS: true, format: 'compact' });
}

async function signOne(psbt: Psbt, request: BtcSignRequest, signer: DigestSigner): Promise<void> {
  const signerAsync = {
    publicKey: request.publicKey,
    sign: async (digest: Uint8Array): Promise<Uint8Array> => {
      const normalized = await signer.signDigest(request.keyId, request.publicKey, digest);
      return concatBytes(normalized.r, normalized.s);
    },
  };
  try {
    await psbt.signInputAsync(request.input, signerAsync, [request.sighashType]);
  } catch (cause) {
    if (isColdsignError(cause)) throw cause;
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw makeError('PSBT_INVALID', `Input ${request.input} could not be signed (${detail.slice(0, 120)}).`, { input: request.input }, cause);
  }
  // Verify what is now in the PSBT against the digest bitcoinjs-lib computes for it.
  if (!psbt.validateSignaturesOfInput(request.input, verifyEcdsa, request.publicKey)) {
    throw makeError('HSM_SIGNATURE_INVALID', `The signature of input ${request.input} does not verify; nothing was signed.`, {
      input: request.input,
    });
  }
}

/** Runs `tasks` with at most `limit` in flight; the first failure rejects once the started ones settle. */
async function runPool<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await task(item);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure;
}

/** Signs the plan's inputs in `parsed.psbt` (which receives the signatures) and returns the output. */
export async function signPsbt(
  parsed: ParsedPsbt,
  plan: BtcSigningPlan,
  signer: DigestSigner,
  options: SignOptions = {},
): Promise<SignedPsbt> {
  if (plan.txid !== parsed.tx.getId()) throw makeError('INTERNAL', 'The signing plan belongs to another PSBT.');
  const { psbt } = parsed;
  installLinearSighash(parsed.tx);
  const concurrency = Math.max(1, options.concurrency ?? 8);
  await runPool(plan.requests, concurrency, (request) => signOne(psbt, request, signer));

  const signatures = plan.requests.map((request) => {
    const sig = psbt.data.inputs[request.input]!.partialSig!.find((p) => toHex(p.pubkey) === toHex(request.publicKey))!;
    return { input: request.input, publicKey: toHex(request.publicKey), signature: toHex(sig.signature) };
  });

  const result: SignedPsbt = { psbt: new Uint8Array(), encoding: parsed.encoding, signatures };
  if (plan.finalize) {
    try {
      psbt.data.inputs.forEach((input, index) => {
        if (!input.finalScriptSig && !input.finalScriptWitness) psbt.finalizeInput(index);
      });
      // The fee was reviewed in the summary; bitcoinjs-lib's own fee-rate cap is not a policy here.
      const tx = psbt.extractTransaction(true);
      result.finalTxHex = tx.toHex();
      result.txid = tx.getId();
    } catch (cause) {
      throw makeError('PSBT_INVALID', 'The signed PSBT could not be finalized.', {}, cause);
    }
  }
  result.psbt = encodePsbtTransport(psbt.toBuffer(), parsed.encoding);
  return result;
}
