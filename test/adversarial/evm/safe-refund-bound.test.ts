/**
 * Safe gas refunds, replayed on Safe 1.3.0 (ganache). Safe pays (gasUsed + baseGas) × gasPrice, where gasUsed is
 * measured around the inner call and is never 0. With safeTxGas 0 coldsign used to bound the refund by
 * baseGas × gasPrice: a SafeTx with baseGas 1 and gasPrice 1 USDC passed a 1 USDC refund cap and paid the relayer
 * about 3,000 USDC. Now a refund with safeTxGas 0 is unbounded (refused under any cap), and with safeTxGas > 0
 * the bound adds Safe's own gas around the call; the payments measured here stay within it.
 */
import { type TypedDataField } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ERC20,
  PAYROLL,
  SAFE_TX_TYPES,
  ZeroAddress,
  execTransactionData,
  ownerSenderSignature,
  safeTxTyped,
  type SafeTxFields,
} from './attacks.js';
import { judge } from './judge.js';
import { CHAIN_ID, USDC, startSafeChain, type SafeChain } from './safe-on-ganache.js';

let chain: SafeChain;
let safeNonce = 0n;

beforeAll(async () => {
  chain = await startSafeChain();
});
afterAll(async () => {
  await chain?.stop();
});

function policy(refundCap: string) {
  const { scene, relayer } = chain;
  return {
    version: 1,
    rules: [
      {
        id: 'safe-payroll',
        chain: 'evm',
        chainIds: [CHAIN_ID],
        kinds: ['contract_call', 'typed_data'],
        contracts: [{ address: scene.safe, label: 'Treasury Safe', selectors: ['0x6a761202'] }],
        typedDataDomains: [{ chainId: CHAIN_ID, verifyingContract: scene.safe }],
        tokens: [{ contract: scene.token, symbol: 'USDC', decimals: 6, maxAmount: '10' }],
        destinations: [{ address: PAYROLL, label: 'Payroll' }],
        safeRefunds: [
          { receiver: relayer.address, label: 'Our relayer', asset: scene.token, maxAmount: refundCap },
        ],
      },
    ],
  };
}

function fields(overrides: Partial<SafeTxFields>): SafeTxFields {
  return {
    to: chain.scene.token,
    value: 0n,
    data: ERC20.encodeFunctionData('transfer', [PAYROLL, 5n * USDC]),
    operation: 0,
    safeTxGas: 0n,
    baseGas: 0n,
    gasPrice: 1n,
    gasToken: chain.scene.token,
    refundReceiver: chain.relayer.address,
    nonce: safeNonce,
    ...overrides,
  };
}

/** Executes the Safe transaction and returns what the refund receiver was paid, in USDC base units. */
async function refundPaid(f: SafeTxFields, signatures: string, sender = chain.relayer): Promise<bigint> {
  const before = await chain.usdcBalance(f.refundReceiver);
  const receipt = await chain.send(sender, {
    to: chain.scene.safe,
    data: execTransactionData(f, signatures),
    gasLimit: 29_000_000,
  });
  expect(receipt.status).toBe('0x1');
  safeNonce++;
  return (await chain.usdcBalance(f.refundReceiver)) - before;
}

describe('Safe refund with safeTxGas 0 (RT-3)', () => {
  it('baseGas 1 × gasPrice 1 USDC: the relayer is paid thousands of USDC; coldsign marks the refund unbounded and refuses it under a 1 USDC cap', async () => {
    const f = fields({ baseGas: 1n, gasPrice: 1n * USDC });
    const verdict = await judge(safeTxTyped(chain.scene, f), [chain.owner.record], policy('1'));
    const refund = verdict.summary.movements.find((m) => m.channel === 'safe-refund');
    expect(refund).toMatchObject({ to: chain.relayer.address, unbounded: true });
    expect(verdict.decision.allowed).toBe(false);
    expect(verdict.refusals.join('\n')).toMatch(
      /Safe pays a gas refund in USDC with no upper limit \(safeTxGas 0 with a gas price\) to Our relayer, over the 1 cap of rule safe-payroll/,
    );
    expect(verdict.summary.warnings.join('\n')).toMatch(/safeTxGas 0, which sets no gas limit/);

    // What the signature does on chain: the owner's EIP-712 signature (ethers), relayed by the attacker.
    const signature = await chain.owner.wallet.signTypedData(
      { chainId: CHAIN_ID, verifyingContract: chain.scene.safe },
      SAFE_TX_TYPES as Record<string, TypedDataField[]>,
      { ...f },
    );
    const paid = await refundPaid(f, signature);
    expect(paid).toBeGreaterThan(1000n * USDC);
  });
});

describe('Safe refund with safeTxGas > 0: the payment stays within the bound coldsign shows', () => {
  const SAFE_TX_GAS = 30_000n;
  const cases: Array<{ name: string; data: number; pad: number; to?: 'fresh'; value?: bigint }> = [
    { name: 'empty data', data: 0, pad: 0 },
    { name: 'ERC-20-sized data', data: 68, pad: 0 },
    { name: '4 KiB of data', data: 4096, pad: 0 },
    {
      name: 'ERC-20-sized data, 1 MB of signature padding (memory grown before the call)',
      data: 68,
      pad: 1_000_000,
    },
    { name: '4 KiB of data, 1 MB of signature padding', data: 4096, pad: 1_000_000 },
    {
      name: '1 wei to an empty account (value transfer and new-account charges)',
      data: 0,
      pad: 0,
      to: 'fresh',
      value: 1n,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const to = c.to === 'fresh' ? `0x${'5e'.repeat(20)}` : chain.burner;
      const f = fields({
        to,
        value: c.value ?? 0n,
        data: `0x${'ab'.repeat(c.data)}`,
        safeTxGas: SAFE_TX_GAS,
        refundReceiver: chain.relayer.address,
      });
      const verdict = await judge(safeTxTyped(chain.scene, f), [chain.owner.record], policy('1'));
      const refund = verdict.summary.movements.find((m) => m.channel === 'safe-refund')!;
      expect(refund.unbounded).toBeUndefined();
      // Safe 1.3.0 pre-validated signature: the owner sends execTransaction itself; padding grows memory.
      const signatures = ownerSenderSignature(chain.owner.wallet.address) + '00'.repeat(c.pad);
      const paid = await refundPaid(f, signatures, chain.owner.wallet);
      if (to === chain.burner) expect(paid).toBeGreaterThan(SAFE_TX_GAS);
      expect(paid).toBeLessThanOrEqual(BigInt(refund.raw));
    });
  }

  it('a cap at the bound allows the refund; one base unit less refuses it', async () => {
    const f = fields({ safeTxGas: SAFE_TX_GAS, baseGas: 20_000n, refundReceiver: chain.relayer.address });
    const shown = await judge(safeTxTyped(chain.scene, f), [chain.owner.record], policy('1'));
    const raw = BigInt(shown.summary.movements.find((m) => m.channel === 'safe-refund')!.raw);
    const cap = (units: bigint) => `${units / USDC}.${(units % USDC).toString().padStart(6, '0')}`;
    const at = await judge(safeTxTyped(chain.scene, f), [chain.owner.record], policy(cap(raw)));
    expect(at.decision.allowed).toBe(true);
    const below = await judge(safeTxTyped(chain.scene, f), [chain.owner.record], policy(cap(raw - 1n)));
    expect(below.decision.allowed).toBe(false);
    void ZeroAddress;
  });
});
