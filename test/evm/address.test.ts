import { describe, expect, it } from 'vitest';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { evmAddress } from '../../chains/evm/address.js';
import { isColdsignError } from '../../core/errors.js';

describe('evmAddress', () => {
  // EIP-155 example: private key 0x4646...46 has address 0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F.
  const sk = new Uint8Array(32).fill(0x46);
  it('derives the EIP-55 address of the EIP-155 example key from uncompressed and compressed keys', () => {
    expect(evmAddress(secp256k1.getPublicKey(sk, false))).toBe('0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F');
    expect(evmAddress(secp256k1.getPublicKey(sk, true))).toBe('0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F');
  });
  it('refuses bytes that are not a curve point', () => {
    let caught: unknown;
    try {
      evmAddress(new Uint8Array(65).fill(4));
    } catch (error) {
      caught = error;
    }
    expect(isColdsignError(caught, 'EVM_PUBLIC_KEY_INVALID')).toBe(true);
  });
});
