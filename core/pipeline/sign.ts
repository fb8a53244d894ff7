/** Signing a prepared request through the DigestSigner; each chain verifies every signature it makes. */
import type { SignedPsbt } from '../../chains/btc/index.js';
import type { MessageSignature } from '../../chains/btc/bip322.js';
import type { SignedEvm } from '../../chains/evm/index.js';
import type { DigestSigner } from '../signer.js';
import type { Secp256k1Verifier } from '../signature.js';
import type { PreparedRequest } from './prepare.js';

export interface SignatureRecord {
  /** Label of our key. */
  key: string;
  /** Bitcoin input index. */
  input?: number;
  /** Hex signature: DER + sighash byte (btc) or r‖s‖v (evm). */
  signature: string;
}

export type SignedRequest =
  | { chain: 'btc'; signatures: SignatureRecord[]; btc: SignedPsbt }
  | { chain: 'btc'; signatures: SignatureRecord[]; btcMessage: MessageSignature }
  | { chain: 'evm'; signatures: SignatureRecord[]; evm: SignedEvm };

/** `verifier` re-checks each signature against its digest (the Node side injects libsecp256k1). */
export async function signPrepared(
  prepared: PreparedRequest,
  signer: DigestSigner,
  verifier?: Secp256k1Verifier,
  options: { finalize?: boolean } = {},
): Promise<SignedRequest> {
  if (prepared.chain === 'btc' && prepared.kind === 'message') {
    // BIP-322 / legacy signed message: bip322.ts verifies the signature under the key before it returns.
    const { signBtcMessage } = await import('../../chains/btc/bip322.js');
    const { plan } = prepared;
    const btcMessage = await signBtcMessage(
      plan.message,
      { keyId: plan.keyId, publicKey: plan.publicKey, script: plan.script },
      plan.format,
      signer,
      verifier,
    );
    return {
      chain: 'btc',
      btcMessage,
      signatures: [{ key: plan.keyLabel, signature: btcMessage.signature }],
    };
  }
  if (prepared.chain === 'btc') {
    const { signPsbt } = await import('../../chains/btc/index.js');
    const btc = await signPsbt(prepared.parsed, prepared.plan, signer, {
      ...(verifier ? { verifier } : {}),
      finalize: options.finalize === true,
    });
    const labels = new Map(prepared.plan.requests.map((r) => [r.input, r.label]));
    return {
      chain: 'btc',
      btc,
      signatures: btc.signatures.map((s) => ({
        key: labels.get(s.input) ?? '?',
        input: s.input,
        signature: s.signature,
      })),
    };
  }
  const { signEvm } = await import('../../chains/evm/index.js');
  const evm = await signEvm(prepared.parsed, prepared.plan, signer, verifier);
  const signature = evm.signature ?? `${evm.r}${evm.s.replace(/^0x/, '')}${(27 + evm.yParity).toString(16)}`;
  return { chain: 'evm', evm, signatures: [{ key: prepared.plan.keyLabel, signature }] };
}
