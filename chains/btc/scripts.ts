/**
 * Script templates of the inputs and outputs the appliance understands (pure): which keys a script pays,
 * and how large its spending data will be once signed (for the fee rate).
 */
import { crypto as bcrypto, payments, script as bscript } from 'bitcoinjs-lib';
import { equalBytes } from '../../core/bytes.js';

export type SpendKind =
  | 'p2wpkh'
  | 'p2sh-p2wpkh'
  | 'p2pkh'
  | 'p2wsh-multisig'
  | 'p2sh-p2wsh-multisig'
  | 'p2sh-multisig'
  | 'p2tr'
  | 'unknown';

export interface Multisig {
  m: number;
  pubkeys: Uint8Array[];
}

/** How an input is spent, resolved from its prevout script and the PSBT's redeem/witness scripts. */
export interface SpendTemplate {
  kind: SpendKind;
  /** Segregated witness version 0 (BIP-141/143 sighash). */
  segwit: boolean;
  /** Public keys that can sign this input. */
  pubkeys: Uint8Array[];
  multisig?: Multisig;
  /** Script committed to by the BIP-143 scriptCode or the legacy sighash. */
  signScript?: Uint8Array;
}

const OPS = bscript.OPS;

export function isP2wpkh(s: Uint8Array): boolean {
  return s.length === 22 && s[0] === OPS.OP_0 && s[1] === 0x14;
}
export function isP2wsh(s: Uint8Array): boolean {
  return s.length === 34 && s[0] === OPS.OP_0 && s[1] === 0x20;
}
export function isP2sh(s: Uint8Array): boolean {
  return s.length === 23 && s[0] === OPS.OP_HASH160 && s[1] === 0x14 && s[22] === OPS.OP_EQUAL;
}
export function isP2pkh(s: Uint8Array): boolean {
  return (
    s.length === 25 &&
    s[0] === OPS.OP_DUP &&
    s[1] === OPS.OP_HASH160 &&
    s[2] === 0x14 &&
    s[23] === OPS.OP_EQUALVERIFY &&
    s[24] === OPS.OP_CHECKSIG
  );
}
/** BIP-341: witness version 1 with a 32-byte program. */
export function isP2tr(s: Uint8Array): boolean {
  return s.length === 34 && s[0] === OPS.OP_1 && s[1] === 0x20;
}
export function isOpReturn(s: Uint8Array): boolean {
  return s.length > 0 && s[0] === OPS.OP_RETURN;
}

/** OP_m <pubkey>... OP_n OP_CHECKMULTISIG (BIP-11 bare multisig, as used inside P2SH/P2WSH), or undefined. */
export function decodeMultisig(script: Uint8Array): Multisig | undefined {
  try {
    const p = payments.p2ms({ output: script });
    if (!p.m || !p.pubkeys) return undefined;
    return { m: p.m, pubkeys: p.pubkeys };
  } catch {
    return undefined;
  }
}

const hash160Cache = new WeakMap<Uint8Array, Uint8Array>();

/** HASH160 of a candidate key, memoized per key object (the same keys are tried against every input). */
function hash160Of(pubkey: Uint8Array): Uint8Array {
  let hash = hash160Cache.get(pubkey);
  if (!hash) {
    hash = bcrypto.hash160(pubkey);
    hash160Cache.set(pubkey, hash);
  }
  return hash;
}

/** BIP-143: the scriptCode of P2WPKH is the P2PKH script of the key hash. */
function p2pkhScriptCode(pubkey: Uint8Array): Uint8Array {
  const script = new Uint8Array(25);
  script.set([OPS.OP_DUP, OPS.OP_HASH160, 0x14]);
  script.set(hash160Of(pubkey), 3);
  script.set([OPS.OP_EQUALVERIFY, OPS.OP_CHECKSIG], 23);
  return script;
}

/**
 * The spend template of a prevout script, given the input's redeem and witness scripts, when it is one of
 * P2WPKH, P2SH-P2WPKH, P2PKH, P2WSH/P2SH-P2WSH/P2SH multisig or Taproot. For single-key templates the key
 * is found among `candidates` (a P2PKH/P2WPKH script holds only the key's hash).
 */
export function spendTemplate(
  prevout: Uint8Array,
  redeemScript: Uint8Array | undefined,
  witnessScript: Uint8Array | undefined,
  candidates: Uint8Array[],
): SpendTemplate {
  const byHash = (hash: Uint8Array) => candidates.filter((pk) => equalBytes(hash160Of(pk), hash));
  if (isP2tr(prevout)) return { kind: 'p2tr', segwit: false, pubkeys: [] };
  if (isP2wpkh(prevout)) {
    const pubkeys = byHash(prevout.subarray(2));
    return {
      kind: 'p2wpkh',
      segwit: true,
      pubkeys,
      ...(pubkeys[0] ? { signScript: p2pkhScriptCode(pubkeys[0]) } : {}),
    };
  }
  if (isP2pkh(prevout)) {
    return { kind: 'p2pkh', segwit: false, pubkeys: byHash(prevout.subarray(3, 23)), signScript: prevout };
  }
  if (isP2wsh(prevout)) {
    // BIP-141: the witness program is SHA-256 of the witness script.
    if (!witnessScript || !equalBytes(bcrypto.sha256(witnessScript), prevout.subarray(2))) return unknown();
    const multisig = decodeMultisig(witnessScript);
    if (!multisig) return unknown();
    return {
      kind: 'p2wsh-multisig',
      segwit: true,
      pubkeys: multisig.pubkeys,
      multisig,
      signScript: witnessScript,
    };
  }
  if (isP2sh(prevout)) {
    // BIP-16: the script hash is HASH160 of the redeem script.
    if (!redeemScript || !equalBytes(bcrypto.hash160(redeemScript), prevout.subarray(2, 22)))
      return unknown();
    if (isP2wpkh(redeemScript)) {
      const pubkeys = byHash(redeemScript.subarray(2));
      return {
        kind: 'p2sh-p2wpkh',
        segwit: true,
        pubkeys,
        ...(pubkeys[0] ? { signScript: p2pkhScriptCode(pubkeys[0]) } : {}),
      };
    }
    if (isP2wsh(redeemScript)) {
      if (!witnessScript || !equalBytes(bcrypto.sha256(witnessScript), redeemScript.subarray(2)))
        return unknown();
      const multisig = decodeMultisig(witnessScript);
      if (!multisig) return unknown();
      return {
        kind: 'p2sh-p2wsh-multisig',
        segwit: true,
        pubkeys: multisig.pubkeys,
        multisig,
        signScript: witnessScript,
      };
    }
    const multisig = decodeMultisig(redeemScript);
    if (!multisig) return unknown();
    return {
      kind: 'p2sh-multisig',
      segwit: false,
      pubkeys: multisig.pubkeys,
      multisig,
      signScript: redeemScript,
    };
  }
  return unknown();
}

function unknown(): SpendTemplate {
  return { kind: 'unknown', segwit: false, pubkeys: [] };
}

const SIG = 1 + 72; // push + DER signature with sighash byte (upper bound, BIP-66)
const PUBKEY = 1 + 33;

function pushSize(n: number): number {
  return n < 0x4c ? 1 + n : n <= 0xff ? 2 + n : 3 + n;
}

function compactSizeLength(n: number): number {
  return n < 0xfd ? 1 : n <= 0xffff ? 3 : 5;
}

/** Upper-bound sizes of the scriptSig and witness of a signed input (BIP-141 weight accounting). */
export function signedInputSize(
  kind: SpendKind,
  multisig: Multisig | undefined,
  redeemScript: Uint8Array | undefined,
  witnessScript: Uint8Array | undefined,
): { scriptSig: number; witness: number } {
  const msWitness = (ms: Multisig, ws: Uint8Array) =>
    compactSizeLength(ms.m + 2) + 1 + ms.m * SIG + compactSizeLength(ws.length) + ws.length;
  switch (kind) {
    case 'p2wpkh':
      return { scriptSig: 0, witness: 1 + SIG + PUBKEY };
    case 'p2sh-p2wpkh':
      return { scriptSig: 1 + 22, witness: 1 + SIG + PUBKEY };
    case 'p2pkh':
      return { scriptSig: SIG + PUBKEY, witness: 0 };
    case 'p2wsh-multisig':
      return { scriptSig: 0, witness: msWitness(multisig!, witnessScript!) };
    case 'p2sh-p2wsh-multisig':
      return { scriptSig: 1 + 34, witness: msWitness(multisig!, witnessScript!) };
    case 'p2sh-multisig':
      return { scriptSig: 1 + multisig!.m * SIG + pushSize(redeemScript!.length), witness: 0 };
    case 'p2tr':
      return { scriptSig: 0, witness: 1 + 1 + 65 };
    case 'unknown':
      return { scriptSig: SIG + PUBKEY, witness: 0 };
  }
}

export { compactSizeLength };
