/** Request fixtures for the EVM tests, built with ethers from published or made-up values. */
import { Transaction, Wallet, hexlify, type TransactionLike } from 'ethers';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keyRecord } from './helpers.js';

/** Deterministic test secret keys (never used outside tests). */
export const SECRET_A = new Uint8Array(32).fill(0x11);
export const SECRET_B = new Uint8Array(32).fill(0x22);
export const KEY_A = keyRecord('vault-a', secp256k1.getPublicKey(SECRET_A, false));
export const KEY_B = keyRecord('vault-b', secp256k1.getPublicKey(SECRET_B, false));

export const USDC = '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48';
export const BOB = '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB';
export const SPENDER = '0x1111111254EEB25477B68fb85Ed929f73A960582';

/** Unsigned serialization (0x hex) of a transaction with defaults for the fields not given. */
export function unsignedHex(fields: TransactionLike): string {
  const type = fields.type ?? 2;
  const fees: TransactionLike =
    type === 2 || type === 4
      ? { maxFeePerGas: 30_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n }
      : { gasPrice: 20_000_000_000n };
  const base: TransactionLike = {
    type,
    chainId: 1n,
    nonce: 7,
    gasLimit: 21000n,
    to: BOB,
    value: 0n,
    data: '0x',
    ...fees,
  };
  return Transaction.from({ ...base, ...fields }).unsignedSerialized;
}

/** A signed EIP-7702 authorization by a software wallet (authorizations are signed by their authority, not by us). */
export function authorization(secret: Uint8Array, address: string, chainId = 1n, nonce = 0n) {
  return new Wallet(hexlify(secret)).authorizeSync({ address, chainId, nonce });
}
