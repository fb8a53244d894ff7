/**
 * The signed transaction is the reviewed unsigned bytes with (v, r, s) appended (EIP-155, EIP-2718). It must be
 * byte-identical to ethers' own signed serialization of the same transaction and signature, for every type we sign.
 */
import { describe, expect, it } from 'vitest';
import { Signature, Transaction, decodeRlp, encodeRlp, type TransactionLike } from 'ethers';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, fromHex } from '../../core/bytes.js';
import { appendSignature } from '../../chains/evm/signed-tx.js';
import { BOB, SECRET_A, SECRET_B, USDC, authorization, unsignedHex } from './fixtures.js';

const cases: Array<[string, TransactionLike]> = [
  ['legacy (EIP-155, chain 1)', { type: 0, nonce: 0 }],
  [
    'legacy (EIP-155, chain 137, value and data)',
    { type: 0, chainId: 137n, value: 10n ** 18n, data: '0xa9059cbb' },
  ],
  [
    'EIP-2930 with an access list',
    { type: 1, accessList: [{ address: USDC, storageKeys: [`0x${'00'.repeat(31)}01`] }] },
  ],
  [
    'EIP-1559 ERC-20 transfer',
    { type: 2, to: USDC, data: `0xa9059cbb${'00'.repeat(12)}${BOB.slice(2)}${'00'.repeat(31)}64` },
  ],
  ['EIP-1559 contract creation (no to)', { type: 2, to: null, data: '0x6000' }],
  ['EIP-7702 with an authorization', { type: 4, authorizationList: [authorization(SECRET_B, USDC)] }],
];

/** A scalar as the 32-byte big-endian word it is in a compact r‖s signature. */
const word = (n: bigint): Uint8Array => fromHex(n.toString(16).padStart(64, '0'));

describe('appendSignature (signed bytes = reviewed bytes + v, r, s)', () => {
  for (const [name, fields] of cases) {
    it(`matches ethers' signed serialization: ${name}`, () => {
      const unsigned = fromHex(unsignedHex(fields));
      // Several signatures so that both parities and r/s with leading zero bytes are likely exercised.
      for (let i = 0; i < 8; i++) {
        const digest = keccak_256(new Uint8Array([...unsigned, i]));
        const sig = secp256k1.Signature.fromBytes(
          secp256k1.sign(digest, SECRET_A, { prehash: false, format: 'recovered' }),
          'recovered',
        );
        const yParity = sig.recovery as 0 | 1;
        const reference = Transaction.from(`0x${bytesToHex(unsigned)}`);
        reference.signature = Signature.from({
          r: `0x${sig.r.toString(16).padStart(64, '0')}`,
          s: `0x${sig.s.toString(16).padStart(64, '0')}`,
          yParity,
        });
        const v = reference.type === 0 ? reference.chainId * 2n + 35n + BigInt(yParity) : BigInt(yParity);
        const ours = appendSignature(unsigned, reference.type!, {
          v,
          r: word(sig.r),
          s: word(sig.s),
        });
        expect(`0x${bytesToHex(ours)}`).toBe(reference.serialized);
      }
    });
  }

  it('a small r is encoded without leading zero bytes, as ethers does', () => {
    const unsigned = fromHex(unsignedHex({ type: 2 }));
    const reference = Transaction.from(`0x${bytesToHex(unsigned)}`);
    const r = 0x01n;
    const s = 0x7fn;
    reference.signature = Signature.from({
      r: `0x${'00'.repeat(31)}01`,
      s: `0x${'00'.repeat(31)}7f`,
      yParity: 1,
    });
    expect(`0x${bytesToHex(appendSignature(unsigned, 2, { v: 1n, r: word(r), s: word(s) }))}`).toBe(
      reference.serialized,
    );
  });

  it('refuses a typed payload that is not one RLP list spanning every byte (trailing byte, cut short, a string)', () => {
    const unsigned = fromHex(unsignedHex({ type: 2 }));
    const refused = [
      new Uint8Array([...unsigned, 0x80]),
      unsigned.subarray(0, unsigned.length - 1),
      new Uint8Array([0x02, 0x83, 0x01, 0x02, 0x03]),
    ];
    for (const payload of refused)
      expect(() => appendSignature(payload, 2, { v: 1n, r: word(1n), s: word(1n) })).toThrow(
        expect.objectContaining({ code: 'STATE_INCONSISTENT' }),
      );
  });

  it('refuses a legacy payload that is not the EIP-155 nine-field list', () => {
    const fields = decodeRlp(fromHex(unsignedHex({ type: 0 }))) as string[];
    const eight = fromHex(encodeRlp(fields.slice(0, 8)));
    expect(() => appendSignature(eight, 0, { v: 37n, r: word(1n), s: word(1n) })).toThrow(
      expect.objectContaining({ code: 'STATE_INCONSISTENT' }),
    );
  });
});
