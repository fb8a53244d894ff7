/**
 * ERC-20 calldata is decoded only when it is the one canonical ABI encoding of its arguments. For these
 * address/uint256-only functions coldsign checks the words directly (32 bytes per argument, nothing after them,
 * 12 zero bytes before each address) instead of re-encoding; this plays that check against the re-encode test it
 * replaced (viem decode, viem encode, compare), on hostile calldata built from valid calls: dirty address padding,
 * truncation, trailing bytes, flipped bytes, upper-case hex.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeAbiParameters, encodeAbiParameters, toFunctionSelector, type Hex } from 'viem';
import { analyzeCall, ERC20_ABI, type CallContext } from '../../chains/evm/decode.js';
import { TokenBook } from '../../chains/evm/tokens.js';
import { BOB, USDC } from './fixtures.js';

const ctx: CallContext = {
  chainId: 1,
  tokens: new TokenBook(1, []),
  ours: new Set(),
  from: BOB,
  origin: BOB,
};

/** The re-encode test: data decodes as `fn`'s arguments and encoding them again gives the same bytes. */
function reencodes(data: string): boolean {
  const fn = ERC20_ABI.find((f) => toFunctionSelector(f) === data.slice(0, 10).toLowerCase());
  if (!fn) return false;
  const body = `0x${data.slice(10)}`.toLowerCase() as Hex;
  try {
    return encodeAbiParameters(fn.inputs, decodeAbiParameters(fn.inputs, body)) === body;
  } catch {
    return false;
  }
}

const decodedByColdsign = (data: string): boolean =>
  analyzeCall(USDC, data, 0n, ctx).call?.category?.startsWith('erc20-') === true;

const word = fc.uint8Array({ minLength: 32, maxLength: 32 });
/** A valid call of one of the four functions, its address words with clean padding. */
const validCall = fc
  .tuple(fc.constantFrom(...ERC20_ABI), fc.array(word, { minLength: 3, maxLength: 3 }))
  .map(([fn, words]) => {
    const body = fn.inputs.map((input, i) => {
      const w = Uint8Array.from(words[i]!);
      if (input.type === 'address') w.fill(0, 0, 12);
      return Buffer.from(w).toString('hex');
    });
    return `${toFunctionSelector(fn)}${body.join('')}`;
  });

type Edit =
  | { kind: 'dirty'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'append'; hex: string }
  | { kind: 'flip'; at: number; xor: number }
  | { kind: 'upper' };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('dirty' as const), at: fc.nat(), value: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('append' as const),
    hex: fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) => Buffer.from(b).toString('hex')),
  }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('upper' as const) }),
);

function applyEdit(data: string, e: Edit): string {
  const bytes = Buffer.from(data.slice(2), 'hex');
  switch (e.kind) {
    case 'dirty': {
      // one of the 12 padding bytes of the first or second word (an address word for every function but one)
      const at = 4 + ((e.at % 2) * 32 + (e.at % 12));
      bytes[at] = e.value;
      return `0x${bytes.toString('hex')}`;
    }
    case 'truncate':
      return `0x${bytes.subarray(0, e.at % bytes.length).toString('hex')}`;
    case 'append':
      return `${data}${e.hex}`;
    case 'flip': {
      const at = e.at % bytes.length;
      bytes[at] = bytes[at]! ^ e.xor;
      return `0x${bytes.toString('hex')}`;
    }
    case 'upper':
      return `0x${data.slice(2).toUpperCase()}`;
  }
}

describe('ERC-20 calldata: the word check accepts exactly what the re-encode test accepts (fast-check)', () => {
  it('valid calls of transfer, approve, transferFrom and increaseAllowance are decoded', () => {
    fc.assert(
      fc.property(validCall, (data) => {
        expect(reencodes(data)).toBe(true);
        expect(decodedByColdsign(data)).toBe(true);
      }),
      { numRuns: 500, seed: 16_16 },
    );
  });

  it('hostile edits of valid calls (3,000 cases): decoded if and only if they re-encode to themselves', () => {
    let refused = 0;
    fc.assert(
      fc.property(validCall, fc.array(edit, { minLength: 1, maxLength: 3 }), (call, edits) => {
        const data = edits.reduce(applyEdit, call);
        const expected = reencodes(data);
        if (!expected) refused++;
        expect(decodedByColdsign(data)).toBe(expected);
      }),
      { numRuns: 3000, seed: 16_17 },
    );
    // the edits produce refusals, not only valid calls
    expect(refused).toBeGreaterThan(1000);
  });
});
