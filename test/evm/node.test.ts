/**
 * A real node accepts what the HSM signs: an in-process ganache (chainId 1337) with an HSM-held address
 * funded before the first block (evm_setAccountBalance), legacy / EIP-2930 / EIP-1559 transactions, an
 * ERC-20 deployed from hand-assembled bytecode, and a transaction signed for another chain refused.
 */
import ganache from 'ganache';
import { Interface, parseEther, getBytes } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hsm } from '../../hsm/index.js';
import { createTestToken, type TestToken } from '../support/softhsm.js';
import { evmAddress, parseEvmRequest, signEvm, summarizeEvm } from '../../chains/evm/index.js';
import type { KeyRecord } from '../../core/signer.js';
import { doc, keyRecord } from './helpers.js';
import { erc20CreationCode } from './erc20-bytecode.js';

const CHAIN_ID = 1337;
const RECIPIENT = '0x3535353535353535353535353535353535353535';
const ERC20 = new Interface([
  'function transfer(address to, uint256 amount)',
  'function balanceOf(address) view returns (uint256)',
]);

type Provider = ReturnType<typeof ganache.provider>;
let token: TestToken;
let hsm: Hsm;
let key: KeyRecord;
let node: Provider;
let nonce = 0;

const rpc = <T>(method: string, params: unknown[] = []): Promise<T> =>
  node.request({ method, params } as never) as Promise<T>;

async function signAndSend(
  fields: Record<string, unknown>,
): Promise<{ hash: string; status: string; contractAddress: string | null; ourHash: string }> {
  const parsed = parseEvmRequest(
    doc({ type: 'transaction', from: key.address, chainId: CHAIN_ID, nonce, ...fields }),
  );
  const { plan } = summarizeEvm(parsed, [key], []);
  const signed = await signEvm(parsed, plan, hsm.signer);
  const hash = await rpc<string>('eth_sendRawTransaction', [signed.rawTransaction]);
  nonce++;
  const receipt = await rpc<{ status: string; contractAddress: string | null }>('eth_getTransactionReceipt', [
    hash,
  ]);
  return { hash, status: receipt.status, contractAddress: receipt.contractAddress, ourHash: signed.hash! };
}

beforeAll(async () => {
  token = createTestToken();
  hsm = token.open();
  const generated = await hsm.keys.generate('evm-node');
  key = keyRecord('evm-node', generated.publicKey, generated.keyId);
  node = ganache.provider({
    chain: { chainId: CHAIN_ID, hardfork: 'shanghai' },
    wallet: { totalAccounts: 0 },
    logging: { quiet: true },
  });
  // Funded before any block is mined: the HSM key's secret never exists outside the HSM, so ganache's
  // genesis account list (which wants secret keys) is replaced by setting the balance in the initial state.
  await rpc('evm_setAccountBalance', [key.address, `0x${parseEther('100').toString(16)}`]);
});

afterAll(async () => {
  await node?.disconnect();
  hsm?.close();
  token?.cleanup();
});

describe('ganache accepts HSM-signed transactions (chainId 1337)', () => {
  it('the HSM key has a funded address', async () => {
    expect(evmAddress(getBytes(`0x${key.publicKey}`))).toBe(key.address);
    expect(BigInt(await rpc<string>('eth_getBalance', [key.address, 'latest']))).toBe(parseEther('100'));
  });

  it('mines a legacy (EIP-155) value transfer with status 1', async () => {
    const r = await signAndSend({
      txType: 0,
      to: RECIPIENT,
      value: parseEther('1').toString(),
      gasLimit: 21000,
      gasPrice: '20000000000',
    });
    expect(r.status).toBe('0x1');
    expect(r.hash).toBe(r.ourHash);
  });

  it('mines an EIP-2930 (type 1) value transfer with an access list, status 1', async () => {
    const r = await signAndSend({
      txType: 1,
      to: RECIPIENT,
      value: '12345',
      gasLimit: 30000,
      gasPrice: '20000000000',
      accessList: [{ address: RECIPIENT, storageKeys: [`0x${'00'.repeat(32)}`] }],
    });
    expect(r.status).toBe('0x1');
    expect(r.hash).toBe(r.ourHash);
  });

  it('mines an EIP-1559 (type 2) value transfer with status 1', async () => {
    const r = await signAndSend({
      to: RECIPIENT,
      value: '777',
      gasLimit: 21000,
      maxFeePerGas: '30000000000',
      maxPriorityFeePerGas: '1000000000',
    });
    expect(r.status).toBe('0x1');
    expect(BigInt(await rpc<string>('eth_getBalance', [RECIPIENT, 'latest']))).toBe(
      parseEther('1') + 12345n + 777n,
    );
  });

  let tokenAddress = '';
  it('deploys the hand-assembled ERC-20 (type 2 contract creation) with status 1', async () => {
    const r = await signAndSend({
      data: erc20CreationCode(1_000_000n),
      gasLimit: 300000,
      maxFeePerGas: '30000000000',
      maxPriorityFeePerGas: '1000000000',
    });
    expect(r.status).toBe('0x1');
    tokenAddress = r.contractAddress!;
    const balance = await rpc<string>('eth_call', [
      { to: tokenAddress, data: ERC20.encodeFunctionData('balanceOf', [key.address]) },
      'latest',
    ]);
    expect(BigInt(balance)).toBe(1_000_000n);
  });

  for (const [label, fee] of [
    ['legacy', { txType: 0, gasPrice: '20000000000' }],
    ['EIP-2930', { txType: 1, gasPrice: '20000000000', accessList: [] }],
    ['EIP-1559', { maxFeePerGas: '30000000000', maxPriorityFeePerGas: '1000000000' }],
  ] as const) {
    it(`mines an ERC-20 transfer call (${label}) with status 1, decoded as erc20-transfer`, async () => {
      const data = ERC20.encodeFunctionData('transfer', [RECIPIENT, 1000n]);
      const parsed = parseEvmRequest(
        doc({
          type: 'transaction',
          from: key.address,
          chainId: CHAIN_ID,
          nonce,
          to: tokenAddress,
          data,
          gasLimit: 100000,
          ...fee,
        }),
      );
      const { summary } = summarizeEvm(
        parsed,
        [key],
        [{ contract: tokenAddress, symbol: 'TST', decimals: 2 }],
      );
      expect(summary.call?.category).toBe('erc20-transfer');
      expect(summary.call?.contract.toLowerCase()).toBe(tokenAddress.toLowerCase());
      expect(summary.movements.slice(1)).toEqual([
        {
          channel: 'token-transfer',
          from: key.address,
          to: RECIPIENT,
          raw: '1000',
          amount: '10.0',
          asset: { type: 'token', contract: summary.call!.contract, symbol: 'TST', decimals: 2 },
          change: false,
        },
      ]);
      const r = await signAndSend({ to: tokenAddress, data, gasLimit: 100000, ...fee });
      expect(r.status).toBe('0x1');
    });
  }

  it('the recipient holds the transferred tokens', async () => {
    const balance = await rpc<string>('eth_call', [
      { to: tokenAddress, data: ERC20.encodeFunctionData('balanceOf', [RECIPIENT]) },
      'latest',
    ]);
    expect(BigInt(balance)).toBe(3000n);
  });

  for (const txType of [0, 2] as const) {
    it(`rejects a type ${txType} transaction signed for chainId 1 (replay protection)`, async () => {
      const fee =
        txType === 0
          ? { gasPrice: '20000000000' }
          : { maxFeePerGas: '30000000000', maxPriorityFeePerGas: '1000000000' };
      const parsed = parseEvmRequest(
        doc({
          type: 'transaction',
          txType,
          from: key.address,
          chainId: 1,
          nonce,
          to: RECIPIENT,
          value: '1',
          gasLimit: 21000,
          ...fee,
        }),
      );
      const { plan } = summarizeEvm(parsed, [key], []);
      const signed = await signEvm(parsed, plan, hsm.signer);
      await expect(rpc('eth_sendRawTransaction', [signed.rawTransaction])).rejects.toThrow(
        txType === 0 ? /v value|chain/i : /chain/i,
      );
      expect(BigInt(await rpc<string>('eth_getTransactionCount', [key.address, 'latest']))).toBe(
        BigInt(nonce),
      );
    });
  }
});
