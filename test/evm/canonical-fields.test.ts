/**
 * The field-level canonical check of legacy / EIP-2930 / EIP-1559 transactions without access-list entries
 * (tx.ts isPlainCanonical) against what it stands in for: viem's parse, re-serialization and byte comparison.
 * Every transaction here, canonical or mutated, must be accepted by parseUnsignedTransaction exactly when viem
 * re-serializes it to the same bytes (Yellow Paper, Appendix B: integers have no leading zero byte).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fromRlp, parseTransaction, serializeTransaction, toRlp, type Hex } from 'viem';
import { parseUnsignedTransaction } from '../../chains/evm/tx.js';
import { isColdsignError } from '../../core/errors.js';
import { fromHex } from '../../core/bytes.js';
import { BOB, unsignedHex } from './fixtures.js';

type Rlp = Hex | Rlp[];
const INTEGERS: Record<number, number[]> = { 0: [0, 1, 2, 4, 6], 1: [0, 1, 2, 3, 5], 2: [0, 1, 2, 3, 4, 6] };

const listOf = (type: number, hex: string): Rlp[] =>
  fromRlp((type === 0 ? hex : `0x${hex.slice(4)}`) as Hex, 'hex') as Rlp[];
const encode = (type: number, list: Rlp[]): string =>
  type === 0 ? toRlp(list) : `0x0${type}${toRlp(list).slice(2)}`;

/** viem's verdict: the bytes parse and re-serialize to themselves. */
function viemCanonical(hex: string): boolean {
  try {
    return serializeTransaction(parseTransaction(hex as Hex)) === hex;
  } catch {
    return false;
  }
}

/** coldsign's verdict: accepted, or refused with EVM_TX_INVALID (any other refusal fails the test). */
function accepted(hex: string): boolean {
  try {
    parseUnsignedTransaction(fromHex(hex.slice(2)));
    return true;
  } catch (error) {
    if (!isColdsignError(error)) throw error;
    if (error.code !== 'EVM_TX_INVALID') throw error;
    return false;
  }
}

/** Mutations of one field: a leading zero byte, zero written as 0x00, a list where a string belongs, and the reverse. */
function mutations(type: number, list: Rlp[]): Rlp[][] {
  const out: Rlp[][] = [];
  for (let at = 0; at < list.length; at++) {
    const item = list[at]!;
    const put = (value: Rlp) => out.push(list.map((x, i) => (i === at ? value : x)));
    if (typeof item === 'string') {
      put(`0x00${item.slice(2)}` as Hex);
      if (item === '0x') put('0x00');
      put([]);
    } else {
      put('0x');
      put('0xc0');
    }
  }
  if (type === 0) out.push(list.map((x, i) => (i === 7 ? '0x01' : x)));
  return out;
}

describe('canonical fields without re-serialization', () => {
  const base = (type: number, fields: object = {}) => unsignedHex({ type, ...fields });

  it('agrees with viem on every single-field mutation of each type, chain id 0 and EIP-155 aside', () => {
    let compared = 0;
    for (const type of [0, 1, 2]) {
      for (const hex of [base(type), base(type, { nonce: 0, value: 5n, data: '0x1234', to: null })]) {
        expect(accepted(hex)).toBe(true);
        for (const list of mutations(type, listOf(type, hex))) {
          const mutated = encode(type, list);
          const chainIdAt = type === 0 ? 6 : 0;
          // chain id 0 (EVM_CHAIN_ID_MISSING) and a legacy r/s set are refused before this check, by other rules
          const chainId = list[chainIdAt];
          if (typeof chainId === 'string' && /^0x(00)*$/.test(chainId)) continue;
          if (type === 0 && (list[7] !== '0x' || list[8] !== '0x')) continue;
          expect(accepted(mutated), `type ${type}: ${mutated}`).toBe(viemCanonical(mutated));
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(60);
  });

  it('agrees with viem on random field values, each integer possibly given a leading zero byte', () => {
    const arbitraryTx = fc.record({
      type: fc.constantFrom(0, 1, 2),
      nonce: fc.integer({ min: 0, max: 2 ** 32 }),
      gasLimit: fc.bigInt({ min: 1n, max: 2n ** 63n }),
      value: fc.bigInt({ min: 0n, max: 2n ** 255n }),
      fee: fc.bigInt({ min: 1n, max: 2n ** 64n }),
      data: fc.uint8Array({ maxLength: 40 }),
      to: fc.option(fc.constant(BOB), { nil: null }),
      padAt: fc.option(fc.nat(6), { nil: undefined }),
    });
    fc.assert(
      fc.property(arbitraryTx, (t) => {
        const fees =
          t.type === 2 ? { maxFeePerGas: t.fee, maxPriorityFeePerGas: t.fee / 2n } : { gasPrice: t.fee };
        const hex = base(t.type, {
          nonce: t.nonce,
          gasLimit: t.gasLimit,
          value: t.value,
          data: `0x${Buffer.from(t.data).toString('hex')}`,
          to: t.to,
          ...fees,
        });
        const list = listOf(t.type, hex);
        const integers = INTEGERS[t.type]!;
        if (t.padAt !== undefined) {
          const at = integers[t.padAt % integers.length]!;
          if (at !== (t.type === 0 ? 6 : 0)) list[at] = `0x00${(list[at] as string).slice(2)}` as Hex;
        }
        const candidate = encode(t.type, list);
        expect(accepted(candidate)).toBe(viemCanonical(candidate));
      }),
      { numRuns: 300 },
    );
  });
});
