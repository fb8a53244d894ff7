/**
 * summarizePsbt (pure): which inputs are ours, the safety checks that must pass before anything is signed,
 * and the SigningSummary the operator and the policy read. The signing plan lists every (input, key) to sign.
 */
import { address as baddress, payments, type Psbt } from 'bitcoinjs-lib';
import type { RegisteredWallet } from '../../core/btc-wallet.js';
import { makeError } from '../../core/errors.js';
import { equalBytes, fromHex, toHex } from '../../core/bytes.js';
import { uncompressPublicKey } from '../../core/signature.js';
import type { BtcNetwork, KeyRecord } from '../../core/signer.js';
import {
  BTC_DEFAULT_FEE_LIMITS,
  type BtcPolicyFacts,
  type Movement,
  type SigningSummary,
} from '../../core/summary.js';
import { btcOutputScript, BTC_SCRIPT_TYPES } from './address.js';
import { networkParams } from './network.js';
import type { ParsedPsbt } from './parse.js';
import {
  isOpReturn,
  isP2sh,
  isP2tr,
  signedInputSize,
  spendTemplate,
  type SpendKind,
  type SpendTemplate,
} from './scripts.js';
import { formatBtc, MAX_MONEY } from './units.js';
import { estimateVsize, type InputSize } from './vsize.js';

export interface SummarizeOptions {
  network: BtcNetwork;
  /**
   * CVE-2020-14199: our segwit v0 inputs may prove their amount with witness_utxo alone (some rule sets
   * `allowWitnessUtxoOnly`); the fee is then shown as unverified. Default false: non_witness_utxo required.
   */
  allowWitnessUtxoOnly?: boolean;
  /** Sighash type bytes some rule names in `sighashTypes`; SIGHASH_ALL is always allowed, others only when listed. */
  sighashTypes?: readonly number[];
  /** Registered multisig wallets of the policy in force (those of `network` are used). */
  wallets?: readonly RegisteredWallet[];
}

/** One signature to produce: input `input` with our key `keyId`. */
export interface BtcSignRequest {
  input: number;
  /** The output this input spends, "txid:vout" (txid in display order). */
  outpoint: string;
  /** The spent output's scriptPubKey, as the PSBT gives it (BIP-174 witness_utxo or non_witness_utxo). */
  prevoutScript: Uint8Array;
  label: string;
  keyId: string;
  publicKey: Uint8Array;
  /** The same key uncompressed (SEC1, 65 bytes): given to the signer and verifier, which then skip decompression. */
  signerKey: Uint8Array;
  sighashType: number;
  kind: SpendKind;
  /** Segregated witness v0: BIP-143 digest; otherwise the legacy digest. */
  segwit: boolean;
  /** BIP-143 scriptCode, or the legacy script the signature commits to. */
  scriptCode: Uint8Array;
  /** Amount of the spent output (BIP-143 commits to it). */
  value: bigint;
  /** P2SH redeem script, for finalization. */
  redeemScript?: Uint8Array;
  /** Scripts the PSBT lacked and the appliance supplied from our key or a registered wallet (BIP-174 Updater). */
  supplied?: { redeemScript?: Uint8Array; witnessScript?: Uint8Array };
  /** Registered wallet of a multisig input. */
  wallet?: string;
}

export interface BtcSigningPlan {
  network: BtcNetwork;
  /** txid of the unsigned transaction: ties the plan to the parsed PSBT. */
  txid: string;
  requests: BtcSignRequest[];
  /** Sighash types the review allowed: the signer refuses any other (SIGHASH_ALL unless a rule named it). */
  sighashTypes: number[];
  /** True when every input will be complete and single-key after signing: it may then be finalized. */
  finalize: boolean;
}

type PsbtInput = Psbt['data']['inputs'][number];

/** Sighash types a request may ask for explicitly (BIP-143/legacy); anything else is refused. */
const SIGHASH_NAMES: Record<number, string> = {
  0x01: 'ALL',
  0x02: 'NONE',
  0x03: 'SINGLE',
  0x81: 'ALL|ANYONECANPAY',
  0x82: 'NONE|ANYONECANPAY',
  0x83: 'SINGLE|ANYONECANPAY',
};

/** Default fee sanity limits (policy/btc-checks.ts applies them when a rule sets no fee cap of its own). */
const DEFAULT_MAX_FEE_PERCENT = BTC_DEFAULT_FEE_LIMITS.percentOfSent;
const DEFAULT_MAX_FEE_RATE = BTC_DEFAULT_FEE_LIMITS.satPerVbyte;
/** Bitcoin Core policy MAX_STANDARD_TX_WEIGHT: larger transactions are not relayed (and legacy sighash is quadratic). */
const MAX_STANDARD_TX_WEIGHT = 400_000;
const SIGHASH_ALL = 0x01;

interface OurKey {
  record: KeyRecord;
  publicKey: Uint8Array;
  uncompressed: Uint8Array;
  /** Hex output scripts (P2WPKH, P2SH-P2WPKH, P2PKH) that pay this key. */
  scripts: string[];
}

/** Per-key material derived from the public key (curve decompression, scripts), kept across requests. */
const keyMaterial = new Map<string, { publicKey: Uint8Array; uncompressed: Uint8Array; scripts: string[] }>();
const KEY_MATERIAL_LIMIT = 4096;

function materialOf(publicKeyHex: string): {
  publicKey: Uint8Array;
  uncompressed: Uint8Array;
  scripts: string[];
} {
  let material = keyMaterial.get(publicKeyHex);
  if (!material) {
    try {
      const publicKey = fromHex(publicKeyHex);
      material = {
        publicKey,
        uncompressed: uncompressPublicKey(publicKey),
        scripts: BTC_SCRIPT_TYPES.map((type) => toHex(btcOutputScript(publicKey, type))),
      };
    } catch (cause) {
      throw makeError(
        'KEY_CHAIN_MISMATCH',
        'A registered Bitcoin key is not a valid secp256k1 public key.',
        {},
        cause,
      );
    }
    if (keyMaterial.size >= KEY_MATERIAL_LIMIT) keyMaterial.clear();
    keyMaterial.set(publicKeyHex, material);
  }
  return material;
}

interface InputFacts {
  index: number;
  txid: string;
  vout: number;
  sats: bigint;
  /** The amount is proven by the previous transaction (non_witness_utxo). */
  verified: boolean;
  template: SpendTemplate;
  ours: OurKey[];
  finalized: boolean;
  sighashType: number;
  wallet?: RegisteredWallet;
}

function hasTaprootFields(input: PsbtInput): boolean {
  return Boolean(
    input.tapInternalKey ||
    input.tapKeySig ||
    input.tapScriptSig?.length ||
    input.tapLeafScript?.length ||
    input.tapBip32Derivation?.length ||
    input.tapMerkleRoot,
  );
}

/** The prevout (script and amount) of input `index`, from non_witness_utxo when present (BIP-174). */
function prevout(
  parsed: ParsedPsbt,
  index: number,
): { script: Uint8Array; value: bigint; verified: boolean } {
  const input = parsed.psbt.data.inputs[index]!;
  const full = parsed.prevTxs[index]?.spent;
  const witness = input.witnessUtxo;
  // Both given: they must describe the same output (BIP-174; otherwise the fee shown would be a lie).
  if (full && witness && (full.value !== witness.value || !equalBytes(full.script, witness.script))) {
    throw makeError(
      'PSBT_UTXO_MISMATCH',
      `Input ${index}'s witness_utxo does not match the output its previous transaction holds.`,
      {
        input: index,
      },
    );
  }
  const out = full ?? witness;
  if (!out) {
    throw makeError(
      'PSBT_UTXO_MISSING',
      `Input ${index} has no UTXO information, so its amount and the fee are unknown.`,
      { input: index },
    );
  }
  if (out.value < 0n || out.value > MAX_MONEY) {
    throw makeError('PSBT_INVALID', `Input ${index} claims an amount outside the range of bitcoin.`, {
      input: index,
    });
  }
  return { script: out.script, value: out.value, verified: full !== undefined };
}

function sighashOf(input: PsbtInput, index: number, outputCount: number, allowed: readonly number[]): number {
  const type = input.sighashType ?? SIGHASH_ALL;
  if (!(type in SIGHASH_NAMES)) {
    throw makeError(
      'PSBT_SIGHASH_UNSUPPORTED',
      `Input ${index} asks for sighash type ${type}, which is not signed here.`,
      { input: index },
    );
  }
  // The SIGHASH_SINGLE "bug": without a matching output the digest is the constant 1 (signs nothing).
  if ((type & 0x1f) === 0x03 && index >= outputCount) {
    throw makeError(
      'PSBT_SIGHASH_UNSUPPORTED',
      `Input ${index} asks for SIGHASH_SINGLE without a matching output.`,
      { input: index },
    );
  }
  // NONE and SINGLE let anyone rewrite the outputs afterwards: signed only when a rule names the type.
  if (type !== SIGHASH_ALL && !allowed.includes(type)) {
    throw makeError(
      'PSBT_SIGHASH_REFUSED',
      `Input ${index} asks for SIGHASH_${SIGHASH_NAMES[type]}, which no rule of the policy allows; only SIGHASH_ALL is signed.`,
      { input: index, sighash: SIGHASH_NAMES[type] },
    );
  }
  return type;
}

/** Electrum's QR export (base43) drops non_witness_utxo from segwit inputs to make the code smaller. */
const BASE43_UTXO_HINT =
  " Electrum's QR export (base43) leaves it out of segwit inputs: save the PSBT from Electrum as a file instead.";

/** CVE-2020-14199: segwit v0 amounts are only trusted when the full previous transaction proves them. */
function checkUtxoProof(facts: InputFacts, strict: boolean, cameAsBase43: boolean): void {
  if (facts.verified) return;
  if (!facts.template.segwit) {
    throw makeError(
      'PSBT_UTXO_MISSING',
      `Input ${facts.index} spends a legacy output but the PSBT lacks its previous transaction.${cameAsBase43 ? BASE43_UTXO_HINT : ''}`,
      {
        input: facts.index,
      },
    );
  }
  if (strict) {
    throw makeError(
      'PSBT_UTXO_MISSING',
      `Input ${facts.index} lacks its full previous transaction (non_witness_utxo), required against the CVE-2020-14199 fee attack unless a rule sets allowWitnessUtxoOnly.${cameAsBase43 ? BASE43_UTXO_HINT : ''}`,
      { input: facts.index },
    );
  }
}

function finalizedSize(input: PsbtInput): InputSize | undefined {
  if (!input.finalScriptSig && !input.finalScriptWitness) return undefined;
  return { scriptSig: input.finalScriptSig?.length ?? 0, witness: input.finalScriptWitness?.length ?? 0 };
}

/** An output pays us when it is a single-key script of one of our keys, or a registered wallet's script. */
function changeOf(
  script: Uint8Array,
  singleKeyScripts: Map<string, string>,
  wallets: Map<string, RegisteredWallet>,
): { label: string; wallet?: string } | undefined {
  const hex = toHex(script);
  const single = singleKeyScripts.get(hex);
  if (single) return { label: single };
  const wallet = wallets.get(hex);
  if (!wallet) return undefined;
  return {
    label: `wallet ${wallet.name} (${wallet.threshold}-of-${wallet.keys.length})`,
    wallet: wallet.name,
  };
}

/** BIP-174 Updater for an address-only watch-only wallet: P2SH of our key's P2WPKH needs no redeem script. */
function ourNestedRedeemScript(prevoutScript: Uint8Array, ourKeys: OurKey[]): Uint8Array | undefined {
  if (!isP2sh(prevoutScript)) return undefined;
  const hex = toHex(prevoutScript);
  const key = ourKeys.find((k) => k.scripts[1] === hex);
  return key ? payments.p2wpkh({ pubkey: key.publicKey }).output : undefined;
}

function unknownFieldWarnings(psbt: Psbt): string[] {
  const describe = (where: string, records: { key: Uint8Array }[] | undefined): string[] => {
    if (!records?.length) return [];
    const proprietary = records.filter((r) => r.key[0] === 0xfc).length;
    const unknown = records.length - proprietary;
    const parts = [
      unknown ? `${unknown} unknown` : '',
      proprietary ? `${proprietary} proprietary (0xFC)` : '',
    ].filter(Boolean);
    return [`${where} carries ${parts.join(' and ')} field(s), kept unchanged and not reviewed.`];
  };
  return [
    ...describe('The PSBT', psbt.data.globalMap.unknownKeyVals),
    ...psbt.data.inputs.flatMap((input, i) => describe(`Input ${i}`, input.unknownKeyVals)),
    ...psbt.data.outputs.flatMap((output, i) => describe(`Output ${i}`, output.unknownKeyVals)),
  ];
}

function outputKind(script: Uint8Array): string {
  const t = spendTemplate(script, undefined, undefined, []);
  if (isOpReturn(script)) return 'op_return';
  if (t.kind === 'p2wpkh' || t.kind === 'p2pkh' || t.kind === 'p2tr') return t.kind;
  if (script.length === 34 && script[0] === 0) return 'p2wsh';
  if (script.length === 23 && script[0] === 0xa9) return 'p2sh';
  return 'nonstandard';
}

/** Summarizes a parsed PSBT for review and plans the signatures of our registered keys. */
export function summarizePsbt(
  parsed: ParsedPsbt,
  keys: KeyRecord[],
  options: SummarizeOptions,
): { summary: SigningSummary; plan: BtcSigningPlan } {
  const { network } = options;
  const strict = !options.allowWitnessUtxoOnly;
  const allowedSighash = [SIGHASH_ALL, ...(options.sighashTypes ?? []).filter((t) => t in SIGHASH_NAMES)];
  if (parsed.networkHint && (parsed.networkHint === 'mainnet') !== (network === 'mainnet')) {
    throw makeError(
      'PSBT_NETWORK_MISMATCH',
      `The PSBT's keys belong to ${parsed.networkHint === 'mainnet' ? 'mainnet' : 'a test network'}, not ${network}.`,
    );
  }
  const ourKeys: OurKey[] = keys
    .filter((k) => k.chain === 'btc' && (k.network === undefined || k.network === network))
    .map((record) => ({ record, ...materialOf(record.publicKey.toLowerCase()) }));
  const byHex = new Map(ourKeys.map((k) => [toHex(k.publicKey), k]));
  const candidates = ourKeys.map((k) => k.publicKey);
  const wallets = new Map(
    (options.wallets ?? []).filter((w) => w.network === network).map((w) => [w.script, w]),
  );
  const { psbt, tx } = parsed;
  const warnings: string[] = [];

  const facts: InputFacts[] = [];
  const sizes: InputSize[] = [];
  const requests: BtcSignRequest[] = [];
  let everyInputSingleAndComplete = true;

  psbt.data.inputs.forEach((input, index) => {
    const txIn = tx.ins[index]!;
    const prev = prevout(parsed, index);
    // BIP-341/371: a PKCS#11 HSM has no BIP-340 Schnorr signatures, so Taproot spends cannot be signed.
    if (isP2tr(prev.script) || hasTaprootFields(input)) {
      throw makeError(
        'PSBT_TAPROOT_UNSUPPORTED',
        `Input ${index} is a Taproot spend, which the HSM cannot sign (no BIP-340 Schnorr).`,
        {
          input: index,
        },
      );
    }
    // Scripts the PSBT left out are taken from the registered wallet or our own key (BIP-174 Updater role).
    const wallet = wallets.get(toHex(prev.script));
    const supplied: { redeemScript?: Uint8Array; witnessScript?: Uint8Array } = {};
    const redeemScript =
      input.redeemScript ?? wallet?.redeemScript ?? ourNestedRedeemScript(prev.script, ourKeys);
    const witnessScript = input.witnessScript ?? wallet?.witnessScript;
    if (!input.redeemScript && redeemScript) supplied.redeemScript = redeemScript;
    if (!input.witnessScript && witnessScript) supplied.witnessScript = witnessScript;
    const template = spendTemplate(prev.script, redeemScript, witnessScript, candidates);
    const inTemplate = template.pubkeys
      .map((pk) => byHex.get(toHex(pk)))
      .filter((k): k is OurKey => k !== undefined);
    const inDerivation = (input.bip32Derivation ?? [])
      .map((d) => byHex.get(toHex(d.pubkey)))
      .filter((k): k is OurKey => !!k);
    const finalized = finalizedSize(input);
    const fact: InputFacts = {
      index,
      txid: toHex(Uint8Array.from(txIn.hash).reverse()),
      vout: txIn.index,
      sats: prev.value,
      verified: prev.verified,
      template,
      ours: inTemplate.length > 0 ? inTemplate : inDerivation,
      finalized: finalized !== undefined,
      sighashType: input.sighashType ?? SIGHASH_ALL,
      ...(wallet ? { wallet } : {}),
    };
    facts.push(fact);
    sizes.push(finalized ?? signedInputSize(template.kind, template.multisig, redeemScript, witnessScript));
    if (fact.finalized) return;
    if (fact.ours.length === 0) {
      everyInputSingleAndComplete = false;
      return;
    }
    // BIP-174 derivation entries name our key, but the script does not contain it: refuse rather than guess.
    if (inTemplate.length === 0 || template.kind === 'unknown') {
      throw makeError(
        'PSBT_SCRIPT_UNSUPPORTED',
        `Input ${index} names one of our keys but its script is not one this appliance signs.`,
        {
          input: index,
        },
      );
    }
    // Anyone can write a multisig of our public key and theirs: only officer-registered wallets are signed.
    if (template.multisig && !wallet) {
      throw makeError(
        'PSBT_WALLET_UNREGISTERED',
        `Input ${index} is a ${template.multisig.m}-of-${template.multisig.pubkeys.length} multisig with our key that is not a registered wallet; it is not signed.`,
        { input: index },
      );
    }
    fact.sighashType = sighashOf(input, index, tx.outs.length, allowedSighash);
    checkUtxoProof(fact, strict, parsed.encoding === 'base43');
    if (!fact.verified) {
      warnings.push(
        `Input ${index}'s amount comes from witness_utxo only (CVE-2020-14199 check relaxed by the policy): the fee is unverified.`,
      );
    }
    if (fact.sighashType !== SIGHASH_ALL) {
      warnings.push(
        `Input ${index} asks for SIGHASH_${SIGHASH_NAMES[fact.sighashType]}: parts of the transaction can change after signing.`,
      );
    }
    const signed = new Set((input.partialSig ?? []).map((p) => toHex(p.pubkey)));
    // An input we signed before is left for the coordinator to finalize (nothing new to add to it).
    if (inTemplate.every((key) => signed.has(toHex(key.publicKey)))) everyInputSingleAndComplete = false;
    for (const key of inTemplate) {
      if (signed.has(toHex(key.publicKey))) continue;
      requests.push({
        input: index,
        outpoint: `${fact.txid}:${fact.vout}`,
        prevoutScript: prev.script,
        label: key.record.label,
        keyId: key.record.keyId,
        publicKey: key.publicKey,
        signerKey: key.uncompressed,
        sighashType: fact.sighashType,
        kind: template.kind,
        segwit: template.segwit,
        scriptCode: template.signScript!,
        value: prev.value,
        ...(redeemScript ? { redeemScript } : {}),
        ...(Object.keys(supplied).length > 0 ? { supplied } : {}),
        ...(wallet ? { wallet: wallet.name } : {}),
      });
    }
    if (template.multisig) everyInputSingleAndComplete = false;
  });

  if (requests.length === 0) {
    throw makeError(
      'PSBT_NOTHING_TO_SIGN',
      'No input of the PSBT is ours to sign (no registered key, or already signed).',
    );
  }

  const params = networkParams(network);
  const singleKeyScripts = new Map<string, string>();
  for (const key of ourKeys) for (const script of key.scripts) singleKeyScripts.set(script, key.record.label);
  const outputs = tx.outs.map((out, index) => {
    let address: string | null = null;
    try {
      address = baddress.fromOutputScript(out.script, params);
    } catch {
      address = null;
    }
    const change = changeOf(out.script, singleKeyScripts, wallets);
    if (isOpReturn(out.script))
      warnings.push(`Output ${index} carries OP_RETURN data (${out.script.length - 1} bytes).`);
    return {
      index,
      address,
      sats: out.value,
      change: change !== undefined,
      label: change?.label,
      wallet: change?.wallet,
      kind: outputKind(out.script),
    };
  });

  const totalIn = facts.reduce((n, f) => n + f.sats, 0n);
  const totalOut = outputs.reduce((n, o) => n + o.sats, 0n);
  if (totalIn < totalOut) {
    throw makeError('PSBT_INCONSISTENT', 'The PSBT pays out more than its inputs hold.', {
      inputs: totalIn.toString(),
      outputs: totalOut.toString(),
    });
  }
  const ours = facts.filter((f) => f.ours.length > 0);
  const ourIn = ours.reduce((n, f) => n + f.sats, 0n);
  const changeSats = outputs.filter((o) => o.change).reduce((n, o) => n + o.sats, 0n);
  const sentSats = totalOut - changeSats;
  // A foreign input's amount is only vouched for by its previous transaction; without it the fee is unknown.
  const unprovenForeign = facts.filter((f) => f.ours.length === 0 && !f.verified).map((f) => f.index);
  const feeStatus: BtcPolicyFacts['feeStatus'] =
    unprovenForeign.length > 0 ? 'unknown' : ours.some((f) => !f.verified) ? 'unverified' : 'verified';
  // Unknown fee: what our inputs can contribute at most (our inputs minus every output), which we can vouch for.
  const fee = feeStatus === 'unknown' ? (ourIn > totalOut ? ourIn - totalOut : 0n) : totalIn - totalOut;
  const totalSpent = ourIn > changeSats ? ourIn - changeSats : 0n;
  const { vsize, weight } = estimateVsize(tx, sizes);
  if (weight > MAX_STANDARD_TX_WEIGHT) {
    throw makeError(
      'PSBT_TX_TOO_LARGE',
      `The signed transaction would weigh ${weight} weight units, above the 400000 that the network relays.`,
      { weight, max: MAX_STANDARD_TX_WEIGHT },
    );
  }
  const feeRate = feeStatus === 'unknown' ? null : Math.round((Number(fee) / vsize) * 100) / 100;
  const redirectable = ours
    .filter((f) => (f.sighashType & 0x1f) !== SIGHASH_ALL)
    .reduce((n, f) => n + f.sats, 0n);
  // An input called foreign but unproven may be ours, signed in another request of the same transaction, and
  // our change would then be credited twice: with the fee unknown, the change is counted as at risk too.
  const unprovenChange = feeStatus === 'unknown' ? changeSats : 0n;
  const atRisk = redirectable + unprovenChange;

  const foreign = facts.filter((f) => f.ours.length === 0).map((f) => f.index);
  if (foreign.length > 0)
    warnings.push(`Inputs ${foreign.join(', ')} are not ours; another party signs them.`);
  if (unprovenForeign.length > 0) {
    warnings.push(
      `The fee is unknown: the amounts of inputs ${unprovenForeign.join(', ')} are not proven by their previous transactions. Our inputs can pay at most ${formatBtc(fee)} BTC of it, which is counted as sent.`,
    );
  }
  if (unprovenChange > 0n)
    warnings.push(
      `The change of ${formatBtc(unprovenChange)} BTC is counted as leaving: an input whose amount is not proven may be ours, signed in another request for this transaction, which could spend it.`,
    );
  if (!outputs.some((o) => o.change)) warnings.push('No output returns change to our keys.');
  const base = sentSats > 0n ? sentSats : totalOut;
  const feeText = feeStatus === 'verified' ? 'The fee' : 'The fee (unverified)';
  if (base > 0n && fee * 100n > base * BigInt(DEFAULT_MAX_FEE_PERCENT)) {
    warnings.push(
      `${feeText} of ${formatBtc(fee)} BTC is more than ${DEFAULT_MAX_FEE_PERCENT}% of the amount sent (${formatBtc(base)} BTC): refused unless the rule sets its own fee cap.`,
    );
  }
  if (feeRate !== null && feeRate > DEFAULT_MAX_FEE_RATE)
    warnings.push(
      `The fee rate of ${feeRate} sat/vB is above ${DEFAULT_MAX_FEE_RATE} sat/vB: refused unless the rule sets its own fee cap.`,
    );
  warnings.push(...unknownFieldWarnings(psbt));

  // Every way value leaves: outputs not ours, change (to our keys or registered wallets), and the fee (BIP-174 roles).
  const movements: Movement[] = outputs.map((o) => ({
    channel: o.change ? 'change' : 'output',
    to: o.address,
    raw: o.sats.toString(),
    amount: formatBtc(o.sats),
    asset: { type: 'native', symbol: 'BTC' },
    change: o.change,
    ...(o.wallet ? { wallet: o.wallet } : {}),
  }));
  movements.push({
    channel: 'fee',
    to: null,
    raw: fee.toString(),
    amount: formatBtc(fee),
    asset: { type: 'native', symbol: 'BTC' },
    change: false,
  });
  const signingKeys = [...new Set(requests.map((r) => r.label))];
  const walletNames = [
    ...new Set([
      ...facts.flatMap((f) => (f.wallet && f.ours.length > 0 ? [f.wallet.name] : [])),
      ...outputs.flatMap((o) => (o.wallet ? [o.wallet] : [])),
    ]),
  ];
  const btc: BtcPolicyFacts = {
    sighashTypes: [...new Set(ours.filter((f) => !f.finalized).map((f) => SIGHASH_NAMES[f.sighashType]!))],
    atRiskSats: atRisk.toString(),
    ourInputSats: ourIn.toString(),
    sentSats: sentSats.toString(),
    feeSats: fee.toString(),
    feeStatus,
    feeRate,
    wallets: walletNames,
  };
  const details = {
    network,
    txid: parsed.txid,
    version: tx.version,
    locktime: tx.locktime,
    inputs: facts.map((f) => ({
      index: f.index,
      txid: f.txid,
      vout: f.vout,
      ours: f.ours.length > 0,
      amount: formatBtc(f.sats),
      sats: f.sats.toString(),
      ...(f.verified ? {} : { amountUnverified: true }),
      script: f.template.kind,
      ...(f.ours.length > 0 ? { keys: f.ours.map((k) => k.record.label) } : {}),
      ...(f.template.multisig
        ? { multisig: `${f.template.multisig.m}-of-${f.template.multisig.pubkeys.length}` }
        : {}),
      ...(f.wallet ? { wallet: f.wallet.name } : {}),
      sighash: SIGHASH_NAMES[f.sighashType] ?? String(f.sighashType),
      ...(f.finalized ? { finalized: true } : {}),
    })),
    outputs: outputs.map((o) => ({
      index: o.index,
      address: o.address,
      amount: formatBtc(o.sats),
      sats: o.sats.toString(),
      change: o.change,
      script: o.kind,
      ...(o.label ? { label: o.label } : {}),
      ...(o.wallet ? { wallet: o.wallet } : {}),
    })),
    fee: feeStatus === 'unknown' ? 'unknown' : formatBtc(fee),
    feeSats: feeStatus === 'unknown' ? null : fee.toString(),
    feeStatus,
    ...(feeStatus === 'unknown' ? { ourFeeShareAtMost: formatBtc(fee) } : {}),
    feeRate,
    vsize,
    weight,
    totalIn: feeStatus === 'unknown' ? 'unknown' : formatBtc(totalIn),
    totalOut: formatBtc(totalOut),
    change: formatBtc(changeSats),
    amountSent: formatBtc(sentSats),
    totalSpent: formatBtc(totalSpent),
    valueLeaving: formatBtc(sentSats + fee),
    ...(atRisk > 0n ? { valueAtRisk: formatBtc(atRisk) } : {}),
  };
  const summary: SigningSummary = {
    chain: 'btc',
    kind: 'psbt',
    network,
    signingKeys,
    movements,
    fee:
      feeStatus === 'unknown'
        ? null
        : { raw: fee.toString(), amount: formatBtc(fee), ...(feeRate !== null ? { rate: feeRate } : {}) },
    blind: false,
    warnings,
    details,
    btc,
  };
  const plan: BtcSigningPlan = {
    network,
    txid: parsed.txid,
    requests,
    sighashTypes: [...new Set(requests.map((r) => r.sighashType))],
    finalize: everyInputSingleAndComplete,
  };
  return { summary, plan };
}
