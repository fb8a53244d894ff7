/**
 * Value routed around per-movement caps on EVM:
 *
 * 1. The fee: a 0.5 ETH transfer under a 1 ETH cap whose priority fee is 10^16 wei per gas takes 210 ETH more
 *    from our account (EIP-1559: up to gasLimit × maxFeePerGas, paid to the block's proposer). Replayed on an
 *    in-process ganache with a throwaway key. Refused: the most the fee can take counts against maxAmount and
 *    velocity, and a rule without a fee cap refuses a price above 1000 gwei per gas.
 * 2. Permit2's batch transfer permit listing one token 20 times at the cap each: Permit2 honours every entry,
 *    so the spender may pull the sum. Shown real by viem's EIP-712 hash recovering the throwaway key's signature.
 *    Refused: approvals of one token add up within a request.
 */
import ganache from 'ganache';
import { Transaction, getAddress, parseEther, type Wallet } from 'ethers';
import { hashTypedData, recoverAddress } from 'viem';
import { afterAll, describe, expect, it } from 'vitest';
import { eip712DomainType, PERMIT_BATCH_TRANSFER_FROM_TYPES } from '../../support/eip712-types.js';
import { judge, NOW_S, throwawayKey } from './judge.js';

const OPS = getAddress('0x0b500000000000000000000000000000000000b5');
const COINBASE = getAddress('0xc0ffee0000000000000000000000000000c0ffee');
const CHAIN_ID = 1337;

const ethOps = (extra: Record<string, unknown> = {}) => ({
  version: 1,
  rules: [
    {
      id: 'eth-ops',
      chain: 'evm',
      chainIds: [CHAIN_ID],
      kinds: ['transfer'],
      destinations: [{ address: OPS, label: 'Ops' }],
      maxAmount: '1',
      velocity: { window: '24h', maxAmount: '2' },
      ...extra,
    },
  ],
});

const transfer = (from: string, perGas: bigint) => ({
  type: 'transaction',
  from,
  chainId: CHAIN_ID,
  nonce: 0,
  gasLimit: 21000,
  to: OPS,
  value: parseEther('0.5').toString(),
  maxFeePerGas: perGas.toString(),
  maxPriorityFeePerGas: perGas.toString(),
});

async function signInMemory(wallet: Wallet, request: ReturnType<typeof transfer>): Promise<string> {
  const { type: _type, from: _from, ...fields } = request;
  return wallet.signTransaction({ ...fields, type: 2 });
}

const node = ganache.provider({
  chain: { chainId: CHAIN_ID, hardfork: 'shanghai' },
  miner: { coinbase: COINBASE },
  wallet: { totalAccounts: 0 },
  logging: { quiet: true },
});
const rpc = <T>(method: string, params: unknown[] = []): Promise<T> =>
  node.request({ method, params } as never) as Promise<T>;
afterAll(async () => {
  await node.disconnect();
});

describe('the EVM fee is value leaving our account', () => {
  it('is real: 0.5 ETH to Ops at 10^16 wei per gas costs the key more than 200 ETH on chain', async () => {
    const { wallet } = throwawayKey();
    const raw = await signInMemory(wallet, transfer(wallet.address, 10n ** 16n));
    expect(Transaction.from(raw).from).toBe(wallet.address);
    await rpc('evm_setAccountBalance', [wallet.address, `0x${parseEther('300').toString(16)}`]);
    const hash = await rpc<string>('eth_sendRawTransaction', [raw]);
    expect((await rpc<{ status: string }>('eth_getTransactionReceipt', [hash])).status).toBe('0x1');
    const left = BigInt(await rpc<string>('eth_getBalance', [wallet.address, 'latest']));
    expect(parseEther('300') - left).toBeGreaterThan(parseEther('200'));
  });

  it('is refused: the fee counts against maxAmount, and the default limit caps the price per gas', async () => {
    const { wallet, record } = throwawayKey();
    const attack = await judge(transfer(wallet.address, 10n ** 16n), [record], ethOps());
    expect(attack.decision.allowed).toBe(false);
    expect(attack.refusals.join('\n')).toContain('210.5 ETH exceeds the 1 ETH limit of rule eth-ops');
    expect(attack.refusals.join('\n')).toContain('above 1000 gwei, the default limit');
    // Under a rule with its own fee cap and no native maxAmount, velocity still counts the fee.
    const velocityOnly = ethOps({ maxAmount: undefined, maxFee: '1000' });
    const counted = await judge(transfer(wallet.address, 10n ** 16n), [record], velocityOnly);
    expect(counted.refusals.join('\n')).toContain('210.5 ETH within 24h');
    // Control: an ordinary fee is allowed.
    const fair = await judge(transfer(wallet.address, 30n * 10n ** 9n), [record], ethOps());
    expect(fair.decision.allowed, fair.refusals.join('\n')).toBe(true);
  });
});

const PERMIT2 = '0x000000000022D473030F116dDEE9F6B43aC78BA3';
const USDC = getAddress('0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48');
const ROUTER = getAddress('0x66a9893cC07D91D95644AEDD05D03f95e1dBA8Af');
const permit2Policy = {
  version: 1,
  rules: [
    {
      id: 'permit2',
      chain: 'evm',
      chainIds: [1],
      kinds: ['typed_data'],
      destinations: [{ address: ROUTER, label: 'Router' }],
      typedDataDomains: [{ name: 'Permit2', verifyingContract: PERMIT2 }],
      tokens: [
        { contract: USDC, symbol: 'USDC', decimals: 6, approvalMaxAmount: '5000', approvalMaxDeadline: '1d' },
      ],
    },
  ],
};
const types = PERMIT_BATCH_TRANSFER_FROM_TYPES;
const domain = { name: 'Permit2', chainId: 1, verifyingContract: PERMIT2 } as const;

function batchPermit(from: string, entries: number, amount: bigint) {
  const permitted = Array.from({ length: entries }, () => ({ token: USDC, amount: amount.toString() }));
  const message = { permitted, spender: ROUTER, nonce: '7', deadline: (NOW_S + 3600n).toString() };
  return {
    type: 'typed_data',
    from,
    typedData: {
      types: {
        EIP712Domain: eip712DomainType(domain),
        ...types,
      },
      primaryType: 'PermitBatchTransferFrom',
      domain,
      message,
    },
  };
}

describe('Permit2 batch transfer permit repeating one token', () => {
  it('is real: the signature over 20 × 5000 USDC recovers to our key under viem', async () => {
    const { wallet } = throwawayKey();
    const { message } = batchPermit(wallet.address, 20, 5_000_000_000n).typedData;
    const signature = await wallet.signTypedData(domain, types, message);
    const hash = hashTypedData({
      domain,
      types,
      primaryType: 'PermitBatchTransferFrom',
      message: {
        permitted: message.permitted.map((p) => ({ token: p.token, amount: BigInt(p.amount) })),
        spender: ROUTER,
        nonce: 7n,
        deadline: BigInt(message.deadline),
      },
    });
    expect(await recoverAddress({ hash, signature: signature as `0x${string}` })).toBe(wallet.address);
  });

  it('is refused: the entries add up to 100,000 USDC against the 5000 USDC approval cap', async () => {
    const { wallet, record } = throwawayKey();
    const attack = await judge(batchPermit(wallet.address, 20, 5_000_000_000n), [record], permit2Policy);
    expect(attack.decision.allowed).toBe(false);
    expect(attack.refusals.join('\n')).toContain('20 approvals of USDC in the request add up to 100000 USDC');
    // Control: two entries within the cap together are allowed.
    const fair = await judge(batchPermit(wallet.address, 2, 2_500_000_000n), [record], permit2Policy);
    expect(fair.decision.allowed, fair.refusals.join('\n')).toBe(true);
  });
});
