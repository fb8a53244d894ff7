/** Virtual size of the signed transaction (pure), for the fee rate: BIP-141 weight = base × 3 + total. */
import type { Transaction } from 'bitcoinjs-lib';
import { compactSizeLength } from './scripts.js';

/** Bytes of an input's scriptSig and witness (the witness including its item count). */
export interface InputSize {
  scriptSig: number;
  witness: number;
}

export function estimateVsize(tx: Transaction, inputs: InputSize[]): { vsize: number; weight: number } {
  let base = 4 + compactSizeLength(tx.ins.length) + compactSizeLength(tx.outs.length) + 4;
  for (const size of inputs) base += 32 + 4 + compactSizeLength(size.scriptSig) + size.scriptSig + 4;
  for (const out of tx.outs) base += 8 + compactSizeLength(out.script.length) + out.script.length;
  const hasWitness = inputs.some((s) => s.witness > 0);
  // BIP-144: marker and flag, then one witness per input (an empty one is a single 0x00 count).
  const witness = hasWitness ? 2 + inputs.reduce((n, s) => n + (s.witness > 0 ? s.witness : 1), 0) : 0;
  const weight = base * 4 + witness;
  return { vsize: Math.ceil(weight / 4), weight };
}
