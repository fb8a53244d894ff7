/**
 * PSBT fixtures built with @scure/btc-signer (an implementation independent of the bitcoinjs-lib code under
 * test), and checks of signed results with it: BIP-143/legacy digests and finalization.
 */
import * as btc from '@scure/btc-signer';
import { sha256 } from '@noble/hashes/sha2.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { fromHex, toHex } from '../../../core/bytes.js';
import type { SignedPsbt } from '../../../chains/btc/sign.js';
import { parseWalletDescriptor, type RegisteredWallet } from '../../../core/btc-wallet.js';
import type { BtcNetwork } from '../../../core/signer.js';

export type FixtureKind =
  'p2wpkh' | 'p2sh-p2wpkh' | 'p2pkh' | 'p2wsh-multisig' | 'p2sh-p2wsh-multisig' | 'p2sh-multisig' | 'p2tr';

export interface InputSpec {
  kind: FixtureKind;
  /** One key for single-key kinds; the multisig keys (in script order) otherwise. */
  pubkeys: Uint8Array[];
  m?: number;
  amount: bigint;
  /** Include the full previous transaction (default true). */
  nonWitnessUtxo?: boolean;
  /** Include witness_utxo (default: for segwit kinds). */
  witnessUtxo?: boolean;
  sighashType?: number;
  /** Leave out the redeem and witness scripts (an address-only watch-only wallet's PSBT). */
  omitScripts?: boolean;
}

export interface OutputSpec {
  script: Uint8Array;
  amount: bigint;
  /** PSBT_OUT_WITNESS_SCRIPT / PSBT_OUT_REDEEM_SCRIPT, as a coordinator adds them for its own outputs. */
  witnessScript?: Uint8Array;
  redeemScript?: Uint8Array;
}

const OPTS = { allowUnknownOutputs: true, allowLegacyWitnessUtxo: true, disableScriptCheck: true } as const;

export function payment(spec: InputSpec): {
  script: Uint8Array;
  redeemScript?: Uint8Array;
  witnessScript?: Uint8Array;
} {
  const [pk] = spec.pubkeys;
  switch (spec.kind) {
    case 'p2wpkh':
      return { script: btc.p2wpkh(pk!).script };
    case 'p2sh-p2wpkh': {
      const p = btc.p2sh(btc.p2wpkh(pk!));
      return { script: p.script, redeemScript: p.redeemScript! };
    }
    case 'p2pkh':
      return { script: btc.p2pkh(pk!).script };
    case 'p2wsh-multisig': {
      const p = btc.p2wsh(btc.p2ms(spec.m!, spec.pubkeys));
      return { script: p.script, witnessScript: p.witnessScript! };
    }
    case 'p2sh-p2wsh-multisig': {
      const p = btc.p2sh(btc.p2wsh(btc.p2ms(spec.m!, spec.pubkeys)));
      return { script: p.script, redeemScript: p.redeemScript!, witnessScript: p.witnessScript! };
    }
    case 'p2sh-multisig': {
      const p = btc.p2sh(btc.p2ms(spec.m!, spec.pubkeys));
      return { script: p.script, redeemScript: p.redeemScript! };
    }
    case 'p2tr':
      return { script: btc.p2tr(pk!.subarray(1)).script };
  }
}

let counter = 0;

/** A previous transaction paying `script` `amount` at output 0. */
export function previousTx(script: Uint8Array, amount: bigint): { bytes: Uint8Array; txid: string } {
  const prev = new btc.Transaction(OPTS);
  prev.addOutput({ script, amount });
  prev.addInput({
    txid: sha256(Uint8Array.of(counter >> 16, counter >> 8, counter++ & 0xff, 7)),
    index: 0,
    finalScriptSig: Uint8Array.of(0x51),
  });
  return { bytes: prev.toBytes(true, false), txid: prev.id };
}

/** A PSBT v0 (binary) spending one fresh previous output per input spec. */
export function buildPsbt(inputs: InputSpec[], outputs: OutputSpec[]): Uint8Array {
  const tx = new btc.Transaction(OPTS);
  for (const spec of inputs) {
    const pay = payment(spec);
    const prev = previousTx(pay.script, spec.amount);
    const segwit = spec.kind !== 'p2pkh' && spec.kind !== 'p2sh-multisig';
    tx.addInput({
      txid: prev.txid,
      index: 0,
      ...(spec.nonWitnessUtxo === false ? {} : { nonWitnessUtxo: prev.bytes }),
      ...((spec.witnessUtxo ?? segwit) ? { witnessUtxo: { script: pay.script, amount: spec.amount } } : {}),
      ...(pay.redeemScript && !spec.omitScripts ? { redeemScript: pay.redeemScript } : {}),
      ...(pay.witnessScript && !spec.omitScripts ? { witnessScript: pay.witnessScript } : {}),
      ...(spec.sighashType ? { sighashType: spec.sighashType } : {}),
      ...(spec.kind === 'p2tr' ? { tapInternalKey: spec.pubkeys[0]!.subarray(1) } : {}),
    });
  }
  for (const out of outputs) tx.addOutput(out);
  return tx.toPSBT(0);
}

/** An output script nobody here holds a key for. */
export function foreignScript(seed: number): Uint8Array {
  return btc.p2wpkh(secp256k1.getPublicKey(sha256(Uint8Array.of(seed, 42)), true)).script;
}

export function foreignKey(seed: number): Uint8Array {
  return secp256k1.getPublicKey(sha256(Uint8Array.of(seed, 43)), true);
}

/**
 * Checks each signature of `signed` with @scure/btc-signer: the digest it computes for the input
 * (BIP-143 for segwit v0, legacy otherwise) verifies under the key, and the PSBT carries that signature.
 */
export function verifyWithScure(unsigned: Uint8Array, signed: SignedPsbt, specs: InputSpec[]): void {
  const tx = btc.Transaction.fromPSBT(unsigned, OPTS);
  for (const { input, publicKey, signature } of signed.signatures) {
    const spec = specs[input]!;
    const pay = payment(spec);
    const sig = fromHex(signature);
    const hashType = sig[sig.length - 1]!;
    const der = sig.subarray(0, sig.length - 1);
    const pk = fromHex(publicKey);
    let digest: Uint8Array;
    if (spec.kind === 'p2pkh' || spec.kind === 'p2sh-multisig') {
      const prevScript = spec.kind === 'p2pkh' ? pay.script : pay.redeemScript!;
      digest = (
        tx as unknown as { preimageLegacy(i: number, s: Uint8Array, h: number): Uint8Array }
      ).preimageLegacy(input, prevScript, hashType);
    } else {
      const scriptCode = pay.witnessScript ?? btc.p2pkh(pk).script;
      digest = tx.preimageWitnessV0(input, scriptCode, hashType, spec.amount);
    }
    if (!secp256k1.verify(der, digest, pk, { prehash: false, format: 'der', lowS: true })) {
      throw new Error(`scure: signature of input ${input} does not verify`);
    }
  }
}

/** Reads the signed output with @scure/btc-signer; finalizes it there when needed and returns the raw tx. */
export function finalizeWithScure(signedPsbt: Uint8Array): { hex: string; id: string } {
  const tx = btc.Transaction.fromPSBT(signedPsbt, OPTS);
  if (!tx.isFinal) tx.finalize();
  return { hex: toHex(tx.extract()), id: tx.id };
}

export { btc };

/** The BIP-380 descriptor of a multisig fixture (multi() keeps the script's key order). */
export function multisigDescriptor(kind: FixtureKind, m: number, pubkeys: Uint8Array[]): string {
  const inner = `multi(${m},${pubkeys.map(toHex).join(',')})`;
  if (kind === 'p2wsh-multisig') return `wsh(${inner})`;
  if (kind === 'p2sh-p2wsh-multisig') return `sh(wsh(${inner}))`;
  if (kind === 'p2sh-multisig') return `sh(${inner})`;
  throw new Error(`${kind} is not a multisig kind`);
}

/** A registered wallet (as the policy's `wallets` section yields it) for a multisig fixture. */
export function walletOf(
  kind: FixtureKind,
  m: number,
  pubkeys: Uint8Array[],
  name = 'treasury',
  network: BtcNetwork = 'testnet',
): RegisteredWallet {
  return parseWalletDescriptor(name, multisigDescriptor(kind, m, pubkeys), network);
}
