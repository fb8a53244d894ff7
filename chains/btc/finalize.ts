/**
 * BIP-174 Input Finalizer and Transaction Extractor for the single-key inputs we sign (pure): the final
 * scriptSig/scriptWitness from our signature, then the network transaction.
 */
import { script as bscript, type Psbt, type Transaction } from 'bitcoinjs-lib';
import { makeError } from '../../core/errors.js';
import type { BtcSignRequest } from './summarize.js';

function varint(n: number): number[] {
  if (n < 0xfd) return [n];
  if (n <= 0xffff) return [0xfd, n & 0xff, n >>> 8];
  return [0xfe, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
}

/** BIP-144 witness serialization: item count, then each item with its length. */
export function serializeWitness(stack: Uint8Array[]): Uint8Array {
  const count = varint(stack.length);
  const lengths = stack.map((item) => varint(item.length));
  let size = count.length;
  stack.forEach((item, i) => (size += lengths[i]!.length + item.length));
  const out = new Uint8Array(size);
  out.set(count);
  let offset = count.length;
  stack.forEach((item, i) => {
    out.set(lengths[i]!, offset);
    offset += lengths[i]!.length;
    out.set(item, offset);
    offset += item.length;
  });
  return out;
}

/** The items of a serialized witness (inverse of serializeWitness). */
export function parseWitness(bytes: Uint8Array): Uint8Array[] {
  let offset = 0;
  const read = (): number => {
    const first = bytes[offset++]!;
    if (first < 0xfd) return first;
    if (first === 0xfd) {
      const n = bytes[offset]! | (bytes[offset + 1]! << 8);
      offset += 2;
      return n;
    }
    const n =
      (bytes[offset]! |
        (bytes[offset + 1]! << 8) |
        (bytes[offset + 2]! << 16) |
        (bytes[offset + 3]! << 24)) >>>
      0;
    offset += 4;
    return n;
  };
  const count = read();
  const stack: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const length = read();
    if (offset + length > bytes.length)
      throw makeError('PSBT_INVALID', 'A final scriptWitness in the PSBT is malformed.');
    stack.push(bytes.subarray(offset, offset + length));
    offset += length;
  }
  return stack;
}

/** The final scripts of one input (BIP-174 PSBT_IN_FINAL_SCRIPTSIG / PSBT_IN_FINAL_SCRIPTWITNESS). */
export interface FinalScripts {
  scriptSig?: Uint8Array;
  /** The witness stack (serialized with serializeWitness into the PSBT). */
  witness?: Uint8Array[];
  /** serializeWitness(witness), the PSBT_IN_FINAL_SCRIPTWITNESS value, made with the stack. */
  serializedWitness?: Uint8Array;
}

/** Final scripts whose witness is `stack`, serialized once for the PSBT. */
function withWitness(scriptSig: Uint8Array, stack: Uint8Array[]): FinalScripts {
  return { scriptSig, witness: stack, serializedWitness: serializeWitness(stack) };
}

/** BIP-174 Input Finalizer for one single-key input we signed: its final scriptSig and witness. */
export function finalScriptsOf(request: BtcSignRequest, signature: Uint8Array): FinalScripts {
  switch (request.kind) {
    case 'p2wpkh':
      // BIP-174 allows an empty PSBT_IN_FINAL_SCRIPTSIG for native segwit; Electrum counts the input
      // complete only when the field is present.
      return withWitness(new Uint8Array(0), [signature, request.publicKey]);
    case 'p2sh-p2wpkh':
      return withWitness(bscript.compile([request.redeemScript!]), [signature, request.publicKey]);
    case 'p2pkh':
      return { scriptSig: bscript.compile([signature, request.publicKey]) };
    default:
      throw makeError('INTERNAL', `Input ${request.input} is not a single-key input.`);
  }
}

/**
 * BIP-174 Transaction Extractor: the unsigned transaction with every input's final scripts, ours from
 * `finals`, the others as the request finalized them.
 */
export function extractTransaction(
  psbt: Psbt,
  unsigned: Transaction,
  finals: ReadonlyMap<number, FinalScripts>,
): Transaction {
  const tx = unsigned.clone();
  psbt.data.inputs.forEach((input, index) => {
    const txIn = tx.ins[index]!;
    const ours = finals.get(index);
    if (ours) {
      txIn.script = ours.scriptSig ?? new Uint8Array(0);
      txIn.witness = ours.witness ?? [];
      return;
    }
    if (!input.finalScriptSig && !input.finalScriptWitness) {
      throw makeError('INTERNAL', `Input ${index} is not finalized.`);
    }
    txIn.script = input.finalScriptSig ?? new Uint8Array(0);
    txIn.witness = input.finalScriptWitness ? parseWitness(input.finalScriptWitness) : [];
  });
  return tx;
}
