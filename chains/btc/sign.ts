/**
 * signPsbt: our signatures over the planned inputs, through the HSM DigestSigner (pure: the signer is a seam).
 * Digests: BIP-143 for segwit v0 (shared hashes cached, chains/btc/sighash.ts), bitcoinjs-lib's legacy
 * algorithm otherwise. Every signature is verified against its input's digest and key before anything is
 * returned, and bitcoinjs-lib's validateSignaturesOfInput re-derives the digest with bitcoinjs-lib's own
 * hashForWitnessV0/hashForSignature (never our linear BIP-143 code) for one input of every (script type,
 * sighash type) pair, so a systematic error in our digest cannot pass.
 */
import type { Psbt } from 'bitcoinjs-lib';
import { makeError, isColdsignError } from '../../core/errors.js';
import { concatBytes, equalBytes, toHex } from '../../core/bytes.js';
import { nobleVerifier, type Secp256k1Verifier } from '../../core/signature.js';
import type { DigestSigner } from '../../core/signer.js';
import { encodePsbtTransport, type PsbtEncoding } from './encoding.js';
import { extractTransaction, finalScriptsOf, type FinalScripts } from './finalize.js';
import { writePsbtMaps } from './maps.js';
import type { ParsedPsbt } from './parse.js';
import { answerInVersion } from './psbt-v2.js';
import { sighashFor } from './sighash.js';
import { signedPsbtMaps } from './signed-psbt.js';
import type { BtcSignRequest, BtcSigningPlan } from './summarize.js';

export interface SignedPsbt {
  /** The signed PSBT as the bytes of the output file, in the request's encoding. */
  psbt: Uint8Array;
  encoding: PsbtEncoding;
  /** Raw signed transaction, when finalizing was asked and every input was complete and single-key. */
  finalTxHex?: string;
  txid?: string;
  /** Each signature made: DER with the sighash byte, as placed in the PSBT. */
  signatures: { input: number; publicKey: string; signature: string }[];
}

export interface SignOptions {
  /** Signatures in flight at once (default 8; the HSM session pool bounds real parallelism). */
  concurrency?: number;
  /** ECDSA verifier (low-S, BIP-62/146); the HSM layer injects libsecp256k1. Default @noble/curves. */
  verifier?: Secp256k1Verifier;
  /**
   * BIP-174 roles: add partial signatures only (default), or also act as Finalizer and Extractor when every
   * input is complete and single-key (`sign --finalize`, or a request whose answer must be a transaction).
   */
  finalize?: boolean;
  /** Test seam: the digest function signed over (tests inject a faulty one and expect the cross-check to refuse). */
  digest?: typeof sighashFor;
}

interface Made {
  request: BtcSignRequest;
  /** DER + sighash byte (BIP-66, BIP-143/legacy). */
  signature: Uint8Array;
  /** The signature and its key as reported: hex of `signature` and of the public key. */
  hex: string;
  publicKeyHex: string;
  /** Its input's final scripts, when the PSBT is finalized. */
  final?: FinalScripts;
}

/** What each signature needs once it is made: the cross-check's bookkeeping and whether to finalize. */
interface SignContext {
  parsed: ParsedPsbt;
  signer: DigestSigner;
  digestOf: typeof sighashFor;
  verifier: Secp256k1Verifier;
  finalize: boolean;
  /** (script type, sighash type) pairs whose first signature bitcoinjs-lib has validated. */
  crossChecked: Set<string>;
}

/**
 * One input's signature, and the work it allows at once while the other signatures are still in the HSM:
 * the partial signature recorded, the cross-check (first input of its kind), the hex and final scripts.
 */
async function signOne(context: SignContext, request: BtcSignRequest): Promise<Made> {
  const { parsed } = context;
  const digest = context.digestOf(
    parsed.tx,
    request.input,
    request.scriptCode,
    request.value,
    request.sighashType,
    request.segwit,
    parsed.sha256,
  );
  // The DigestSigner contract (core/signer.ts) verifies every signature against this digest and key
  // before returning it (core/signature.ts normalizeSignature): checked once, not again here.
  const normalized = await context.signer.signDigest(request.keyId, request.signerKey, digest);
  const made: Made = {
    request,
    signature: concatBytes(normalized.der, Uint8Array.of(request.sighashType)),
    hex: '',
    publicKeyHex: '',
  };
  addPartialSignature(parsed.psbt, made);
  crossCheck(parsed, made, context.verifier, context.crossChecked);
  made.hex = toHex(made.signature);
  made.publicKeyHex = toHex(request.publicKey);
  if (context.finalize) made.final = finalScriptsOf(request, made.signature);
  return made;
}

/** Runs `task` over `items` with at most `limit` in flight; the first failure rejects once the started ones settle. */
async function runPool<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await task(items[index]!);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure;
  return results;
}

/**
 * bitcoinjs-lib re-derives the digest from the PSBT for the first input of each (script type, sighash)
 * pair, with its own transaction code: our cached BIP-143 digest is not involved.
 */
function crossCheck(parsed: ParsedPsbt, made: Made, verifier: Secp256k1Verifier, seen: Set<string>): void {
  const { request } = made;
  const kind = `${request.kind}/${request.sighashType}`;
  if (seen.has(kind)) return;
  seen.add(kind);
  const validator = (publicKey: Uint8Array, digest: Uint8Array, signature: Uint8Array) =>
    verifier.verify(signature, digest, publicKey);
  let valid: boolean;
  try {
    valid = parsed.psbt.validateSignaturesOfInput(request.input, validator, request.publicKey);
  } catch (cause) {
    throw makeError(
      'HSM_SIGNATURE_INVALID',
      `The signature of input ${request.input} could not be validated; nothing was signed.`,
      {},
      cause,
    );
  }
  if (!valid) {
    throw makeError(
      'HSM_SIGNATURE_INVALID',
      `The signature of input ${request.input} does not validate; nothing was signed.`,
      {
        input: request.input,
      },
    );
  }
}

function addPartialSignature(psbt: Psbt, { request, signature }: Made): void {
  const input = psbt.data.inputs[request.input]!;
  // BIP-174 Updater: scripts the request lacked, supplied from our key or the registered wallet.
  if (request.supplied?.redeemScript && !input.redeemScript)
    input.redeemScript = request.supplied.redeemScript;
  if (request.supplied?.witnessScript && !input.witnessScript)
    input.witnessScript = request.supplied.witnessScript;
  // BIP-174 PSBT_IN_PARTIAL_SIG: <pubkey> → <signature as pushed to the stack>
  input.partialSig = [...(input.partialSig ?? []), { pubkey: request.publicKey, signature }];
}

/**
 * Signs the plan's inputs and returns the output: the request's records plus our signatures (or final
 * scripts). `parsed.psbt` keeps the partial signatures (bitcoinjs-lib's cross-check reads them there).
 */
export async function signPsbt(
  parsed: ParsedPsbt,
  plan: BtcSigningPlan,
  signer: DigestSigner,
  options: SignOptions = {},
): Promise<SignedPsbt> {
  if (plan.txid !== parsed.txid) throw makeError('INTERNAL', 'The signing plan belongs to another PSBT.');
  for (const request of plan.requests) {
    // Only the sighash types the review allowed (SIGHASH_ALL unless a rule named another).
    if (!plan.sighashTypes.includes(request.sighashType)) {
      throw makeError(
        'PSBT_SIGHASH_REFUSED',
        `Input ${request.input} would be signed with a sighash type the review did not allow; nothing was signed.`,
        { input: request.input },
      );
    }
    const input = parsed.psbt.data.inputs[request.input]!;
    const signed = input.partialSig?.some((p) => equalBytes(p.pubkey, request.publicKey));
    if (signed || input.finalScriptSig || input.finalScriptWitness) {
      throw makeError(
        'INTERNAL',
        'This parsed PSBT was already signed; parse the request again to sign it again.',
      );
    }
  }
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const context: SignContext = {
    parsed,
    signer,
    digestOf: options.digest ?? sighashFor,
    verifier: options.verifier ?? nobleVerifier,
    finalize: Boolean(plan.finalize && options.finalize),
    crossChecked: new Set(),
  };
  let made: Made[];
  try {
    made = await runPool(plan.requests, concurrency, (request) => signOne(context, request));
  } catch (error) {
    if (isColdsignError(error)) throw error;
    throw makeError('INTERNAL', 'Signing failed unexpectedly; nothing was signed.', {}, error);
  }
  const result: SignedPsbt = {
    psbt: new Uint8Array(),
    encoding: parsed.encoding,
    signatures: made.map(({ request, hex, publicKeyHex }) => ({
      input: request.input,
      publicKey: publicKeyHex,
      signature: hex,
    })),
  };
  let finals: Map<number, FinalScripts> | undefined;
  if (context.finalize) {
    finals = new Map(made.map(({ request, final }) => [request.input, final!]));
    const tx = extractTransaction(parsed.psbt, parsed.tx, finals);
    result.finalTxHex = toHex(tx.toBuffer());
    // A txid hashes the non-witness serialization: with every scriptSig still empty (native segwit), that is
    // the unsigned transaction, whose txid is known; otherwise it is computed again.
    result.txid = tx.ins.every((txIn) => txIn.script.length === 0) ? parsed.txid : tx.getId();
  }
  const sighashTypes = made.map(({ request }) => request.sighashType);
  // The request's own records plus ours (chains/btc/signed-psbt.ts), not a re-encoding of the decoded PSBT.
  const signedV0 = writePsbtMaps(signedPsbtMaps(parsed.maps, made, finals));
  result.psbt = encodePsbtTransport(answerInVersion(parsed.v2, signedV0, sighashTypes), parsed.encoding);
  return result;
}
