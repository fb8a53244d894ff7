/**
 * A 32-byte personal_sign message is a hash standing for something else (RT-4). Safe 1.3.0 accepts an owner
 * signature with v > 30 as eth_sign over keccak("\x19Ethereum Signed Message:\n32" ‖ safeTxHash), which is exactly
 * the EIP-191 signature of the 32 hash bytes; ERC-4337 accounts commonly check userOpHash the same way. Replayed on
 * ganache: the EIP-191 signature of a safeTxHash moves 900,000 USDC out of the Safe. coldsign now summarizes such a
 * message (and any message that is not printable text) as blind, which a rule without allowBlind refuses.
 */
import { TypedDataEncoder, getBytes, hashMessage, type TypedDataField } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evmDigest, parseEvmRequest } from '../../../chains/evm/index.js';
import { ATTACKER, ERC20, SAFE_TX_TYPES, ZeroAddress, execTransactionData } from './attacks.js';
import { judge } from './judge.js';
import { CHAIN_ID, USDC, startSafeChain, type SafeChain } from './safe-on-ganache.js';

let chain: SafeChain;
beforeAll(async () => {
  chain = await startSafeChain();
});
afterAll(async () => {
  await chain?.stop();
});

/** docs/policy.md's login-message rule: messages only, no blind signing. */
function loginPolicy(extra: Record<string, unknown> = {}) {
  return {
    version: 1,
    rules: [
      { id: 'login', chain: 'evm', chainIds: [CHAIN_ID], kinds: ['message'], maxMessageBytes: 512, ...extra },
    ],
  };
}

const message = (from: string, body: { message: string } | { messageHex: string }) => ({
  type: 'personal_sign',
  from,
  ...body,
});

describe('personal_sign of a Safe transaction hash (RT-4, Safe 1.3.0 on ganache)', () => {
  it('the EIP-191 signature of the safeTxHash, relayed with v + 4, pays the attacker 900,000 USDC; coldsign refuses it as blind', async () => {
    const { scene, owner, relayer } = chain;
    const fields = {
      to: scene.token,
      value: 0n,
      data: ERC20.encodeFunctionData('transfer', [ATTACKER, 900_000n * USDC]),
      operation: 0,
      safeTxGas: 0n,
      baseGas: 0n,
      gasPrice: 0n,
      gasToken: ZeroAddress,
      refundReceiver: ZeroAddress,
      nonce: 0n,
    };
    const safeTxHash = TypedDataEncoder.hash(
      { chainId: CHAIN_ID, verifyingContract: scene.safe },
      SAFE_TX_TYPES as Record<string, TypedDataField[]>,
      fields,
    );
    const request = message(owner.wallet.address, { messageHex: safeTxHash });

    const verdict = await judge(request, [owner.record], loginPolicy());
    expect(verdict.summary.blind).toBe(true);
    expect(verdict.summary.details.blind).toBe(true);
    expect(verdict.summary.warnings.join('\n')).toMatch(/exactly 32 bytes: it may be a hash/);
    expect(verdict.decision.allowed).toBe(false);
    expect(verdict.refusals[0]).toMatch(
      /not printable text or is exactly 32 bytes \(it may stand for a hash\), and rule login does not allow blind/,
    );

    // What coldsign would have signed: the EIP-191 digest of the 32 bytes (ethers computes it independently).
    const parsed = parseEvmRequest(new TextEncoder().encode(JSON.stringify(request)));
    expect(evmDigest(parsed)).toBe(hashMessage(getBytes(safeTxHash)));
    const signature = await owner.wallet.signMessage(getBytes(safeTxHash));
    // Safe 1.3.0 checkNSignatures: v > 30 → ecrecover(keccak("\x19Ethereum Signed Message:\n32" ‖ dataHash), v − 4, r, s)
    const v = parseInt(signature.slice(130, 132), 16) + 4;
    const safeSignature = `${signature.slice(0, 130)}${v.toString(16)}`;
    const before = await chain.usdcBalance(ATTACKER);
    const receipt = await chain.send(relayer, {
      to: scene.safe,
      data: execTransactionData(fields, safeSignature),
    });
    expect(receipt.status).toBe('0x1');
    expect((await chain.usdcBalance(ATTACKER)) - before).toBe(900_000n * USDC);
  });

  it('control: a rule that allows blind signing signs the same message', async () => {
    const request = message(chain.owner.wallet.address, { messageHex: `0x${'ab'.repeat(32)}` });
    const verdict = await judge(request, [chain.owner.record], loginPolicy({ allowBlind: true }));
    expect(verdict.decision.allowed).toBe(true);
  });
});

describe('which EIP-191 messages are blind', () => {
  const cases: Array<{ name: string; body: { message: string } | { messageHex: string }; blind: boolean }> = [
    // A hash ground until every byte is printable ASCII (about 2^46 tries) reads as text: still a hash.
    {
      name: 'printable text of exactly 32 bytes',
      body: { message: 'Sign in to example.org, nonce 42' },
      blind: true,
    },
    {
      name: 'printable text of 31 bytes',
      body: { message: 'Sign in to example.org, nonce 4' },
      blind: false,
    },
    {
      name: 'printable text of 33 bytes',
      body: { message: 'Sign in to example.org, nonce 421' },
      blind: false,
    },
    { name: 'bytes that are not UTF-8', body: { messageHex: '0xff00ff' }, blind: true },
    { name: 'text with a control character', body: { messageHex: '0x48690007' }, blind: true },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.blind ? 'blind, refused by a rule without allowBlind' : 'not blind, signed'}`, async () => {
      const verdict = await judge(
        message(chain.owner.wallet.address, c.body),
        [chain.owner.record],
        loginPolicy(),
      );
      expect(verdict.summary.blind).toBe(c.blind);
      expect(verdict.decision.allowed).toBe(!c.blind);
    });
  }
});
