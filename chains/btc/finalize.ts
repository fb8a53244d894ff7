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
  const parts: number[] = varint(stack.length);
  for (const item of stack) parts.push(...varint(item.length), ...item);
  return Uint8Array.from(parts);
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

/** Finalizes one single-key input with our signature (BIP-174 Finalizer: other input fields are cleared). */
export function finalizeSingleKey(psbt: Psbt, request: BtcSignRequest, signature: Uint8Array): void {
  const input = psbt.data.inputs[request.input]!;
  switch (request.kind) {
    case 'p2wpkh':
      // BIP-174 allows an empty PSBT_IN_FINAL_SCRIPTSIG for native segwit; Electrum counts the input
      // complete only when the field is present.
      input.finalScriptSig = new Uint8Array(0);
      input.finalScriptWitness = serializeWitness([signature, request.publicKey]);
      break;
    case 'p2sh-p2wpkh':
      input.finalScriptSig = bscript.compile([request.redeemScript!]);
      input.finalScriptWitness = serializeWitness([signature, request.publicKey]);
      break;
    case 'p2pkh':
      input.finalScriptSig = bscript.compile([signature, request.publicKey]);
      break;
    default:
      throw makeError('INTERNAL', `Input ${request.input} is not a single-key input.`);
  }
  psbt.data.clearFinalizedInput(request.input);
}

/** BIP-174 Transaction Extractor: the unsigned transaction with every input's final scripts. */
export function extractTransaction(psbt: Psbt, unsigned: Transaction): Transaction {
  const tx = unsigned.clone();
  psbt.data.inputs.forEach((input, index) => {
    if (!input.finalScriptSig && !input.finalScriptWitness) {
      throw makeError('INTERNAL', `Input ${index} is not finalized.`);
    }
    const txIn = tx.ins[index]!;
    txIn.script = input.finalScriptSig ?? new Uint8Array(0);
    txIn.witness = input.finalScriptWitness ? parseWitness(input.finalScriptWitness) : [];
  });
  return tx;
}
