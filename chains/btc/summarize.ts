/**
 * summarizePsbt (pure): which inputs are ours, the safety checks that must pass before anything is signed,
 * and the SigningSummary the operator and the policy read. The signing plan lists every (input, key) to sign.
 */
import { address as baddress, type Psbt } from 'bitcoinjs-lib';
import { makeError } from '../../core/errors.js';
import { equalBytes, fromHex, toHex } from '../../core/bytes.js';
import { uncompressPublicKey } from '../../core/signature.js';
import type { BtcNetwork, KeyRecord } from '../../core/signer.js';
import type { Movement, SigningSummary } from '../../core/summary.js';
import { btcOutputScript, BTC_SCRIPT_TYPES } from './address.js';
import { networkParams } from './network.js';
import type { ParsedPsbt } from './parse.js';
import {
  isOpReturn,
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
  /** CVE-2020-14199: require non_witness_utxo for every segwit v0 input we sign (default true). */
  strictUtxo?: boolean;
}

/** One signature to produce: input `input` with our key `keyId`. */
export interface BtcSignRequest {
  input: number;
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
}

export interface BtcSigningPlan {
  network: BtcNetwork;
  /** txid of the unsigned transaction: ties the plan to the parsed PSBT. */
  txid: string;
  requests: BtcSignRequest[];
  /** True when every input will be complete and single-key after signing: then finalize and extract. */
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

const FEE_WARNING_RATIO = 0.05;
/** Bitcoin Core policy MAX_STANDARD_TX_WEIGHT: larger transactions are not relayed (and legacy sighash is quadratic). */
const MAX_STANDARD_TX_WEIGHT = 400_000;
const HIGH_FEE_RATE = 1000;

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
  template: SpendTemplate;
  ours: OurKey[];
  finalized: boolean;
  sighashType: number;
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
function prevout(parsed: ParsedPsbt, index: number): { script: Uint8Array; value: bigint } {
  const input = parsed.psbt.data.inputs[index]!;
  const txIn = parsed.tx.ins[index]!;
  const full = parsed.prevTxs[index]?.outs[txIn.index];
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
  return { script: out.script, value: out.value };
}

function sighashOf(input: PsbtInput, index: number, outputCount: number): number {
  const type = input.sighashType ?? 0x01;
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
  return type;
}

/** CVE-2020-14199: segwit v0 amounts are only trusted when the full previous transaction proves them. */
function checkUtxoProof(parsed: ParsedPsbt, facts: InputFacts, strict: boolean): void {
  const hasFull = parsed.prevTxs[facts.index] !== undefined;
  if (hasFull) return;
  if (!facts.template.segwit) {
    throw makeError(
      'PSBT_UTXO_MISSING',
      `Input ${facts.index} spends a legacy output but the PSBT lacks its previous transaction.`,
      {
        input: facts.index,
      },
    );
  }
  if (strict) {
    throw makeError(
      'PSBT_UTXO_MISSING',
      `Input ${facts.index} lacks its full previous transaction (non_witness_utxo), required against the CVE-2020-14199 fee attack.`,
      { input: facts.index },
    );
  }
}

function finalizedSize(input: PsbtInput): InputSize | undefined {
  if (!input.finalScriptSig && !input.finalScriptWitness) return undefined;
  return { scriptSig: input.finalScriptSig?.length ?? 0, witness: input.finalScriptWitness?.length ?? 0 };
}

/** An output pays us when it is a single-key script of one of our keys, or multisig of our cosigner set. */
function changeLabel(
  parsed: ParsedPsbt,
  index: number,
  script: Uint8Array,
  singleKeyScripts: Map<string, string>,
  cosigners: Set<string>,
  ourKeys: OurKey[],
): string | undefined {
  const single = singleKeyScripts.get(toHex(script));
  if (single) return single;
  const output = parsed.psbt.data.outputs[index];
  const inner = output?.witnessScript ?? output?.redeemScript;
  if (!inner || cosigners.size === 0) return undefined;
  // The script must really be the output's (BIP-16/141 hashes), else the PSBT could point anywhere.
  const template = spendTemplate(script, output?.redeemScript, output?.witnessScript, []);
  if (!template.multisig) return undefined;
  const hexes = template.multisig.pubkeys.map(toHex);
  if (!hexes.every((h) => cosigners.has(h))) return undefined;
  const mine = ourKeys.filter((k) => hexes.includes(toHex(k.publicKey)));
  return mine.length > 0
    ? `${template.multisig.m}-of-${hexes.length} multisig (${mine.map((k) => k.record.label).join(', ')})`
    : undefined;
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
  const strict = options.strictUtxo ?? true;
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
  const { psbt, tx } = parsed;
  const warnings: string[] = [];

  const facts: InputFacts[] = [];
  const sizes: InputSize[] = [];
  const requests: BtcSignRequest[] = [];
  const cosigners = new Set<string>();
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
    const template = spendTemplate(prev.script, input.redeemScript, input.witnessScript, candidates);
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
      template,
      ours: inTemplate.length > 0 ? inTemplate : inDerivation,
      finalized: finalized !== undefined,
      sighashType: input.sighashType ?? 0x01,
    };
    facts.push(fact);
    sizes.push(finalized ?? signedSize(template, input));
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
    fact.sighashType = sighashOf(input, index, tx.outs.length);
    checkUtxoProof(parsed, fact, strict);
    if (!parsed.prevTxs[index] && template.segwit) {
      warnings.push(
        `Input ${index}'s amount comes from witness_utxo only: the CVE-2020-14199 check was relaxed.`,
      );
    }
    if (fact.sighashType !== 0x01) {
      warnings.push(
        `Input ${index} asks for SIGHASH_${SIGHASH_NAMES[fact.sighashType]}: parts of the transaction can change after signing.`,
      );
    }
    if (template.multisig) template.multisig.pubkeys.forEach((pk) => cosigners.add(toHex(pk)));
    const signed = new Set((input.partialSig ?? []).map((p) => toHex(p.pubkey)));
    // An input we signed before is left for the coordinator to finalize (nothing new to add to it).
    if (inTemplate.every((key) => signed.has(toHex(key.publicKey)))) everyInputSingleAndComplete = false;
    for (const key of inTemplate) {
      if (signed.has(toHex(key.publicKey))) continue;
      requests.push({
        input: index,
        label: key.record.label,
        keyId: key.record.keyId,
        publicKey: key.publicKey,
        signerKey: key.uncompressed,
        sighashType: fact.sighashType,
        kind: template.kind,
        segwit: template.segwit,
        scriptCode: template.signScript!,
        value: prev.value,
        ...(input.redeemScript ? { redeemScript: input.redeemScript } : {}),
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
    const label = changeLabel(parsed, index, out.script, singleKeyScripts, cosigners, ourKeys);
    if (isOpReturn(out.script))
      warnings.push(`Output ${index} carries OP_RETURN data (${out.script.length - 1} bytes).`);
    return {
      index,
      address,
      sats: out.value,
      change: label !== undefined,
      label,
      kind: outputKind(out.script),
    };
  });

  const totalIn = facts.reduce((n, f) => n + f.sats, 0n);
  const totalOut = outputs.reduce((n, o) => n + o.sats, 0n);
  const fee = totalIn - totalOut;
  if (fee < 0n) {
    throw makeError('PSBT_INCONSISTENT', 'The PSBT pays out more than its inputs hold.', {
      inputs: totalIn.toString(),
      outputs: totalOut.toString(),
    });
  }
  const ourIn = facts.filter((f) => f.ours.length > 0).reduce((n, f) => n + f.sats, 0n);
  const changeSats = outputs.filter((o) => o.change).reduce((n, o) => n + o.sats, 0n);
  const sentSats = totalOut - changeSats;
  const totalSpent = ourIn > changeSats ? ourIn - changeSats : 0n;
  const { vsize, weight } = estimateVsize(tx, sizes);
  if (weight > MAX_STANDARD_TX_WEIGHT) {
    throw makeError(
      'PSBT_TX_TOO_LARGE',
      `The signed transaction would weigh ${weight} weight units, above the 400000 that the network relays.`,
      { weight, max: MAX_STANDARD_TX_WEIGHT },
    );
  }
  const feeRate = Math.round((Number(fee) / vsize) * 100) / 100;

  const foreign = facts.filter((f) => f.ours.length === 0).map((f) => f.index);
  if (foreign.length > 0)
    warnings.push(`Inputs ${foreign.join(', ')} are not ours; another party signs them.`);
  if (!outputs.some((o) => o.change)) warnings.push('No output returns change to our keys.');
  const base = sentSats > 0n ? sentSats : totalOut;
  if (base > 0n && Number(fee) > Number(base) * FEE_WARNING_RATIO) {
    warnings.push(
      `The fee (${formatBtc(fee)} BTC) is more than 5% of the amount sent (${formatBtc(base)} BTC).`,
    );
  }
  if (feeRate > HIGH_FEE_RATE) warnings.push(`The fee rate of ${feeRate} sat/vB is unusually high.`);

  const movements: Movement[] = outputs.map((o) => ({
    to: o.address,
    raw: o.sats.toString(),
    amount: formatBtc(o.sats),
    asset: { type: 'native', symbol: 'BTC' },
    change: o.change,
  }));
  const signingKeys = [...new Set(requests.map((r) => r.label))];
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
      script: f.template.kind,
      ...(f.ours.length > 0 ? { keys: f.ours.map((k) => k.record.label) } : {}),
      ...(f.template.multisig
        ? { multisig: `${f.template.multisig.m}-of-${f.template.multisig.pubkeys.length}` }
        : {}),
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
    })),
    fee: formatBtc(fee),
    feeSats: fee.toString(),
    feeRate,
    vsize,
    weight,
    totalIn: formatBtc(totalIn),
    totalOut: formatBtc(totalOut),
    change: formatBtc(changeSats),
    amountSent: formatBtc(sentSats),
    totalSpent: formatBtc(totalSpent),
  };
  const summary: SigningSummary = {
    chain: 'btc',
    kind: 'psbt',
    network,
    signingKeys,
    movements,
    fee: { raw: fee.toString(), amount: formatBtc(fee), rate: feeRate },
    blind: false,
    warnings,
    details,
  };
  const plan: BtcSigningPlan = {
    network,
    txid: parsed.txid,
    requests,
    finalize: everyInputSingleAndComplete,
  };
  return { summary, plan };
}

function signedSize(template: SpendTemplate, input: PsbtInput): InputSize {
  return signedInputSize(template.kind, template.multisig, input.redeemScript, input.witnessScript);
}
