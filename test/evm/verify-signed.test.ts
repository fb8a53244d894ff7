/**
 * verifySignedTransaction (viem's decoder and unsigned re-serialization, our keccak and recovery) against ethers'
 * Transaction.from as the independent reference: transactions of every supported type are signed by ethers with
 * throwaway in-memory keys; sender and hash must be the ones ethers reads, and each refusal (EIP-155 chain id,
 * EIP-2 high s, another sender, a different payload, malformed bytes) ends in EVM_SIGNATURE_INVALID.
 */
import { describe, expect, it } from 'vitest';
import { Transaction, Wallet, getBytes, type TransactionLike } from 'ethers';
import { parseTransaction, serializeTransaction, type Hex } from 'viem';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { randomBytes } from 'node:crypto';
import { verifySignedTransaction } from '../../chains/evm/index.js';
import { expectCode } from './helpers.js';
import { BOB, USDC } from './fixtures.js';

const N = secp256k1.Point.CURVE().n;

function wallet(): Wallet {
  return new Wallet(`0x${randomBytes(32).toString('hex')}`);
}

/** Fields of one transaction of type `type` on chain `chainId`, varied by `i`. */
function fields(type: 0 | 1 | 2, chainId: bigint, i: number): TransactionLike {
  const base: TransactionLike = {
    type,
    chainId,
    nonce: i,
    to: i % 5 === 4 ? null : i % 2 ? USDC : BOB,
    value: BigInt(i) * 10n ** 15n,
    gasLimit: 21_000n + BigInt(i),
    data: i % 3 === 0 ? '0x' : `0x${randomBytes(4 + i).toString('hex')}`,
  };
  if (type === 2)
    return { ...base, maxFeePerGas: 30_000_000_000n + BigInt(i), maxPriorityFeePerGas: BigInt(i) };
  const withPrice = { ...base, gasPrice: 20_000_000_000n + BigInt(i) };
  return type === 1
    ? { ...withPrice, accessList: i % 2 ? [{ address: USDC, storageKeys: [] }] : [] }
    : withPrice;
}

async function signed(type: 0 | 1 | 2, chainId: bigint, i: number) {
  const signer = wallet();
  const raw = await signer.signTransaction(fields(type, chainId, i));
  return { signer, raw, tx: Transaction.from(raw) };
}

describe('verifySignedTransaction against ethers', () => {
  it('reads the sender and hash ethers reads for legacy (EIP-155), EIP-2930 and EIP-1559 transactions', async () => {
    for (let i = 0; i < 60; i++) {
      const type = (i % 3) as 0 | 1 | 2;
      const chainId = [1n, 5n, 137n, 11155111n][i % 4]!;
      const { signer, raw, tx } = await signed(type, chainId, i);
      const result = verifySignedTransaction(raw, {
        chainId,
        address: signer.address,
        unsigned: tx.unsignedSerialized,
      });
      expect(result.from).toBe(tx.from);
      expect(result.from).toBe(signer.address);
      expect(result.hash).toBe(tx.hash);
    }
  });

  it('refuses another chain id, another expected sender and another reviewed payload', async () => {
    const { raw, tx } = await signed(2, 1n, 7);
    expectCode(() => verifySignedTransaction(raw, { chainId: 5n }), 'EVM_SIGNATURE_INVALID');
    expectCode(
      () => verifySignedTransaction(raw, { chainId: 1n, address: wallet().address }),
      'EVM_SIGNATURE_INVALID',
    );
    const other = Transaction.from({ ...fields(2, 1n, 8), signature: null }).unsignedSerialized;
    expectCode(() => verifySignedTransaction(raw, { chainId: 1n, unsigned: other }), 'EVM_SIGNATURE_INVALID');
    expect(verifySignedTransaction(raw, { chainId: 1n, unsigned: tx.unsignedSerialized }).from).toBe(tx.from);
  });

  it('refuses the high-s twin of a valid signature (EIP-2), which still recovers to the same sender', async () => {
    for (const type of [0, 2] as const) {
      const { signer, raw, tx } = await signed(type, 1n, 3);
      const sig = tx.signature!;
      // (r, n - s) with the other parity is the same signature's malleable form: @noble/curves recovers the signer
      const highS = N - BigInt(sig.s);
      const yParity = sig.yParity === 0 ? 1 : 0;
      const recovered = new secp256k1.Signature(BigInt(sig.r), highS)
        .addRecoveryBit(yParity)
        .recoverPublicKey(getBytes(tx.unsignedHash))
        .toHex(false);
      expect(`0x${recovered}`).toBe(signer.signingKey.publicKey);
      const twin = serializeTransaction(parseTransaction(tx.unsignedSerialized as Hex), {
        r: sig.r as Hex,
        s: `0x${highS.toString(16).padStart(64, '0')}`,
        ...(type === 0 ? { v: BigInt(sig.v) === 37n ? 38n : 37n } : { yParity }),
      });
      expect(verifySignedTransaction(raw, { chainId: 1n }).from).toBe(tx.from);
      expectCode(() => verifySignedTransaction(twin, { chainId: 1n }), 'EVM_SIGNATURE_INVALID');
      expect(() => verifySignedTransaction(twin, { chainId: 1n })).toThrow(/high or zero s value/);
    }
  });

  it('refuses a pre-EIP-155 legacy signature (v = 27/28), which ethers reads as valid on every chain', async () => {
    const signer = wallet();
    const raw = await signer.signTransaction({ ...fields(0, 1n, 2), chainId: 0n });
    expect(Transaction.from(raw).from).toBe(signer.address);
    expectCode(() => verifySignedTransaction(raw, { chainId: 1n }), 'EVM_SIGNATURE_INVALID');
  });

  it('refuses an unsigned transaction, truncated bytes and a flipped signature byte', async () => {
    const { raw, tx } = await signed(2, 1n, 5);
    expectCode(
      () => verifySignedTransaction(tx.unsignedSerialized, { chainId: 1n }),
      'EVM_SIGNATURE_INVALID',
    );
    expectCode(() => verifySignedTransaction(raw.slice(0, -10), { chainId: 1n }), 'EVM_SIGNATURE_INVALID');
    expectCode(() => verifySignedTransaction('0x', { chainId: 1n }), 'EVM_SIGNATURE_INVALID');
    // the last byte of s changed: the signature recovers to some other address or to none
    const flipped = `${raw.slice(0, -2)}${(Number.parseInt(raw.slice(-2), 16) ^ 1).toString(16).padStart(2, '0')}`;
    expectCode(
      () => verifySignedTransaction(flipped, { chainId: 1n, address: tx.from! }),
      'EVM_SIGNATURE_INVALID',
    );
  });
});
