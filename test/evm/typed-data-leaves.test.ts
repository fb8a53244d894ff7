/**
 * EIP-712 leaf values are checked against their declared types before anything is hashed: each atomic type is
 * accepted in one JSON form only (docs/evm-requests.md "typed_data"). Every refusal is EVM_TYPED_DATA_INVALID and
 * names the field. What is accepted hashes, under viem (independent of ethers), as the value it states.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashTypedData, type TypedDataDomain } from 'viem';
import { isColdsignError } from '../../core/errors.js';
import { parseTypedData, typedDataDigest } from '../../chains/evm/typed-data.js';
import { expectCode } from './helpers.js';

const CHECKSUMMED = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const DOMAIN = { name: 'Leaves', chainId: 1 };
const DOMAIN_TYPE = [
  { name: 'name', type: 'string' },
  { name: 'chainId', type: 'uint256' },
];

/** A document whose message is one field `v` of `type`. */
function leafDoc(type: string, value: unknown) {
  return {
    types: { EIP712Domain: DOMAIN_TYPE, Leaf: [{ name: 'v', type }] },
    primaryType: 'Leaf',
    domain: DOMAIN,
    message: { v: value },
  };
}

function refusal(input: unknown): string {
  try {
    parseTypedData(input);
  } catch (error) {
    expect(isColdsignError(error) ? error.code : String(error)).toBe('EVM_TYPED_DATA_INVALID');
    return (error as Error).message;
  }
  throw new Error('expected EVM_TYPED_DATA_INVALID, the document was accepted');
}

const CASES: Array<{ type: string; accepted: unknown[]; refused: unknown[] }> = [
  {
    type: 'bool',
    accepted: [true, false],
    refused: ['false', 'true', '0', 0, 1, null, {}, [], 'yes'],
  },
  {
    type: 'address',
    accepted: [CHECKSUMMED, CHECKSUMMED.toLowerCase(), `0x${CHECKSUMMED.slice(2).toUpperCase()}`],
    refused: [
      CHECKSUMMED.replace('a', 'A'), // mixed case, wrong checksum
      CHECKSUMMED.slice(0, -1),
      `${CHECKSUMMED}0`,
      CHECKSUMMED.slice(2),
      `0X${CHECKSUMMED.slice(2)}`,
      'XE7338O073KYGTWWZN0F2WZ0R8PX5ZPPZS', // ICAP, which ethers would convert
      ` ${CHECKSUMMED}`,
      1,
      null,
      { address: CHECKSUMMED },
    ],
  },
  {
    type: 'uint8',
    accepted: [0, 255, '255', '007', '0xff', '0xFF', '0x00ff'],
    refused: [256, '256', '0x100', -1, '-1', 1.5, '1.5', '1e2', ' 1', '1 ', '+1', '0x', '-0x1', '0b1', '0o7'],
  },
  {
    type: 'int8',
    accepted: [-128, '-128', 127, '0x7f', '-0'],
    refused: [-129, '-129', 128, '0x80', '-0x1', '--1', true],
  },
  {
    type: 'uint256',
    accepted: [`${(1n << 256n) - 1n}`, `0x${'f'.repeat(64)}`, Number.MAX_SAFE_INTEGER],
    refused: [`${1n << 256n}`, `0x1${'0'.repeat(64)}`, 2 ** 53, 1e21, -0.5, `${'0'.repeat(81)}1`, null],
  },
  {
    type: 'int256',
    accepted: [`${-(1n << 255n)}`, `${(1n << 255n) - 1n}`, Number.MIN_SAFE_INTEGER],
    refused: [`${-(1n << 255n) - 1n}`, `${1n << 255n}`, `0x8${'0'.repeat(63)}`],
  },
  {
    type: 'bytes32',
    accepted: [`0x${'ab'.repeat(32)}`, `0x${'AB'.repeat(32)}`],
    refused: [
      `0x${'ab'.repeat(31)}`,
      `0x${'ab'.repeat(33)}`,
      `0x${'ab'.repeat(31)}a`,
      'ab'.repeat(32),
      0,
      [1],
    ],
  },
  {
    type: 'bytes1',
    accepted: ['0xab'],
    refused: ['0xa', '0xabc', '0x', 171],
  },
  {
    type: 'bytes',
    accepted: ['0x', '0xabcd', '0xABcd'],
    refused: ['0xabc', 'abcd', '0xzz', '', 12, null, [0xab]],
  },
  {
    type: 'string',
    accepted: ['', 'hello', '0x1234'],
    refused: [1, true, null, [], {}],
  },
];

describe('typed data leaf values against their declared types', () => {
  for (const { type, accepted, refused } of CASES) {
    it(`${type}: accepts ${accepted.length} forms, refuses ${refused.length}`, () => {
      for (const value of accepted)
        expect(() => parseTypedData(leafDoc(type, value)), String(value)).not.toThrow();
      const named = new RegExp(`^Typed data field message\\.v \\(${type}\\) must be [^.]+\\.$`);
      for (const value of refused) expect(refusal(leafDoc(type, value)), String(value)).toMatch(named);
    });
  }

  it('names the field path and the expected form in one sentence', () => {
    expect(refusal(leafDoc('bool', 'false'))).toBe(
      'Typed data field message.v (bool) must be a JSON boolean (true or false).',
    );
    const nested = {
      types: {
        EIP712Domain: DOMAIN_TYPE,
        Order: [{ name: 'items', type: 'Item[]' }],
        Item: [
          { name: 'token', type: 'address' },
          { name: 'amount', type: 'uint96' },
        ],
      },
      primaryType: 'Order',
      domain: DOMAIN,
      message: {
        items: [
          { token: CHECKSUMMED, amount: '1' },
          { token: CHECKSUMMED, amount: '1.0' },
        ],
      },
    };
    expect(refusal(nested)).toBe(
      'Typed data field message.items[1].amount (uint96) must be a JSON safe integer, a decimal string or a 0x hex string.',
    );
    expect(refusal(leafDoc('uint8', 256))).toBe(
      'Typed data field message.v (uint8) must be between 0 and 2^8 - 1.',
    );
    expect(refusal(leafDoc('int8', -129))).toBe(
      'Typed data field message.v (int8) must be between -2^7 and 2^7 - 1.',
    );
    expect(refusal(leafDoc('uint8[2]', [1, '2x']))).toMatch(/^Typed data field message\.v\[1\] \(uint8\)/);
  });

  it('checks the domain the same way', () => {
    const withDomain = (domain: Record<string, unknown>, fields: Array<[string, string]>) => ({
      ...leafDoc('bool', true),
      types: {
        EIP712Domain: fields.map(([name, type]) => ({ name, type })),
        Leaf: [{ name: 'v', type: 'bool' }],
      },
      domain,
    });
    const chain = (chainId: unknown) => withDomain({ chainId }, [['chainId', 'uint256']]);
    for (const ok of [1, '1', '0x1']) expect(() => parseTypedData(chain(ok))).not.toThrow();
    for (const bad of ['1.0', ' 1', true, -1, '-1'])
      expect(refusal(chain(bad))).toMatch(/^Typed data field domain\.chainId \(uint256\) must be/);
    const contract = (verifyingContract: unknown) =>
      withDomain({ verifyingContract }, [['verifyingContract', 'address']]);
    expect(refusal(contract(CHECKSUMMED.replace('a', 'A')))).toMatch(/domain\.verifyingContract \(address\)/);
    const salt = (value: unknown) => withDomain({ salt: value }, [['salt', 'bytes32']]);
    expect(refusal(salt(`0x${'00'.repeat(31)}`))).toMatch(
      /domain\.salt \(bytes32\) must be 0x followed by exactly 64/,
    );
    const name = (value: unknown) => withDomain({ name: value }, [['name', 'string']]);
    expect(refusal(name(7))).toBe('Typed data field domain.name (string) must be a JSON string.');
  });

  it('refuses a struct named like an atomic type (ethers would encode it as that type)', () => {
    const doc = {
      types: { EIP712Domain: DOMAIN_TYPE, bool: [{ name: 'amount', type: 'uint256' }] },
      primaryType: 'bool',
      domain: DOMAIN,
      message: { amount: '1' },
    };
    expectCode(() => parseTypedData(doc), 'EVM_TYPED_DATA_INVALID');
  });
});

/** The test's own statement of each type's one JSON form (independent of the implementation). */
function oracle(type: string, value: unknown): boolean {
  const int = /^(u?)int(\d+)$/.exec(type);
  if (int) {
    const signed = int[1] === '';
    const bits = BigInt(int[2]!);
    let n: bigint;
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) return false;
      n = BigInt(value);
    } else if (typeof value === 'string' && value.length <= 80) {
      if (/^-?[0-9]+$/.test(value)) n = BigInt(value);
      else if (/^0x[0-9a-fA-F]+$/.test(value)) n = BigInt(value);
      else return false;
    } else return false;
    if (!signed) return n >= 0n && n < 1n << bits;
    return n >= -(1n << (bits - 1n)) && n < 1n << (bits - 1n);
  }
  const fixed = /^bytes(\d+)$/.exec(type);
  if (fixed)
    return typeof value === 'string' && new RegExp(`^0x[0-9a-fA-F]{${2 * Number(fixed[1])}}$`).test(value);
  switch (type) {
    case 'bytes':
      return typeof value === 'string' && /^0x([0-9a-fA-F]{2})*$/.test(value);
    case 'bool':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string';
    case 'address': {
      if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(value)) return false;
      const digits = value.slice(2);
      return digits === digits.toLowerCase() || digits === digits.toUpperCase() || value === CHECKSUMMED;
    }
  }
  throw new Error(`no oracle for ${type}`);
}

/** The value an accepted leaf states, in viem's native form. */
function intended(type: string, value: unknown): unknown {
  return /int/.test(type) ? BigInt(value as string | number) : value;
}

const atomicType = fc.oneof(
  fc.constantFrom('bool', 'address', 'string', 'bytes'),
  fc.tuple(fc.constantFrom('uint', 'int'), fc.integer({ min: 1, max: 32 })).map(([k, n]) => `${k}${n * 8}`),
  fc.integer({ min: 1, max: 32 }).map((n) => `bytes${n}`),
);
const hexDigits = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), maxLength: 70 });
const decimalDigits = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 80 });
/** Mostly wrong forms: any JSON, numbers of every kind, and near-miss strings. */
const leafValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.boolean(),
  fc.double(),
  fc.bigInt({ min: -(1n << 80n), max: 1n << 80n }).map(Number),
  fc.integer(),
  hexDigits.map((d) => `0x${d}`),
  hexDigits.map((d) => `0X${d}`),
  hexDigits,
  fc.tuple(fc.constantFrom('', '-', '+', ' ', '--'), decimalDigits).map(([s, d]) => `${s}${d}`),
  fc.constantFrom(CHECKSUMMED, CHECKSUMMED.toLowerCase(), CHECKSUMMED.replace('a', 'A'), '1e3', '0b1', '0x'),
);

describe("every leaf: refused with EVM_TYPED_DATA_INVALID unless in its type's one form (fast-check)", () => {
  it('wrong-typed leaves are always refused; accepted ones hash under viem as the value they state (3,000 cases)', () => {
    let refusedCount = 0;
    let acceptedCount = 0;
    fc.assert(
      fc.property(atomicType, leafValue, (type, value) => {
        const doc = leafDoc(type, value);
        if (!oracle(type, value)) {
          expect(refusal(doc)).toMatch(/^Typed data field message\.v \(/);
          refusedCount++;
          return;
        }
        const parsed = parseTypedData(doc);
        const viem = hashTypedData({
          domain: DOMAIN as TypedDataDomain,
          types: { Leaf: [{ name: 'v', type }] },
          primaryType: 'Leaf',
          message: { v: intended(type, value) },
        } as never);
        expect(typedDataDigest(parsed)).toBe(viem);
        acceptedCount++;
      }),
      { numRuns: 3000, seed: 20260302 },
    );
    expect(refusedCount).toBeGreaterThan(1500);
    expect(acceptedCount).toBeGreaterThan(100);
  });
});
