/**
 * The WebAssembly keccak-256 (chains/evm/keccak.ts) and the EIP-55 checksum built on it agree with independent
 * implementations: @noble/hashes' keccak_256 and ethers' getAddress.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { getAddress } from 'ethers';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex } from '../../core/bytes.js';
import { keccak256Bytes, keccakImplementation, keccakReady } from '../../chains/evm/keccak.js';
import { checksumLowerHex } from '../../chains/evm/address.js';

beforeAll(() => keccakReady);

describe('keccak256Bytes (hash-wasm)', () => {
  it('hashes with the WebAssembly instance once keccakReady has settled', () => {
    expect(keccakImplementation()).toBe('hash-wasm');
  });

  it('equals @noble/hashes keccak_256 for inputs of 0 to 600 bytes (across the 136-byte rate)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), (data) => {
        expect(bytesToHex(keccak256Bytes(data))).toBe(bytesToHex(keccak_256(data)));
      }),
      { numRuns: 2000 },
    );
  });

  it('returns fresh bytes: a later hash does not change an earlier result', () => {
    const first = keccak256Bytes(new Uint8Array([1]));
    const copy = first.slice();
    keccak256Bytes(new Uint8Array([2]));
    expect(first).toEqual(copy);
  });
});

describe('checksumLowerHex (EIP-55)', () => {
  it('gives the EIP-55 examples', () => {
    for (const address of [
      '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
      '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
      '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
      '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
    ])
      expect(checksumLowerHex(address.slice(2).toLowerCase())).toBe(address);
  });

  it('equals ethers getAddress for random addresses', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), (bytes) => {
        const digits = bytesToHex(bytes);
        expect(checksumLowerHex(digits)).toBe(getAddress(`0x${digits}`));
      }),
      { numRuns: 2000 },
    );
  });
});
