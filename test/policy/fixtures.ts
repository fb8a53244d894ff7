/** Request summaries and policy documents for the policy tests. */
import type { Movement, SigningSummary } from '../../core/summary.js';
import { parsePolicy, type PolicyDocument } from '../../policy/schema.js';

/** Valid mainnet P2WPKH addresses (BIP-173): a policy's allowlist refuses addresses that can never match. */
export const EXCHANGE = 'bc1qamhwamhwamhwamhwamhwamhwamhwamhwmkgx3g';
export const CHANGE = 'bc1qenxvenxvenxvenxvenxvenxvenxvenxvx46avd';
export const PAYROLL = '0x1111111111111111111111111111111111111111';
export const USDC = '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48';
export const ROUTER = '0x2222222222222222222222222222222222222222';

export function btcTransfer(
  outputs: Array<{ to: string | null; sat: bigint; change?: boolean }>,
  feeSat = 1000n,
  rate = 10,
): SigningSummary {
  return {
    chain: 'btc',
    kind: 'psbt',
    network: 'mainnet',
    signingKeys: ['vault-1'],
    movements: outputs.map((o): Movement => ({
      to: o.to,
      raw: o.sat.toString(),
      amount: null,
      asset: { type: 'native', symbol: 'BTC' },
      change: o.change ?? false,
    })),
    fee: { raw: feeSat.toString(), amount: '0', rate },
    blind: false,
    warnings: [],
    details: {},
    // What chains/btc reports beside the movements (policy/btc-checks.ts reads it).
    btc: {
      sighashTypes: ['ALL'],
      atRiskSats: '0',
      ourInputSats: (outputs.reduce((n, o) => n + o.sat, 0n) + feeSat).toString(),
      sentSats: outputs.reduce((n, o) => n + (o.change ? 0n : o.sat), 0n).toString(),
      feeSats: feeSat.toString(),
      feeStatus: 'verified',
      feeRate: rate,
      wallets: [],
    },
  };
}

export function usdcTransfer(to: string, units: bigint, feeWei = 10n ** 15n): SigningSummary {
  return {
    chain: 'evm',
    kind: 'transaction',
    chainId: 1,
    signingKeys: ['treasury'],
    movements: [
      {
        channel: 'call',
        to: USDC,
        raw: '0',
        amount: '0',
        asset: { type: 'native', symbol: 'ETH' },
        change: false,
        selector: '0xa9059cbb',
      },
      {
        channel: 'token-transfer',
        to,
        raw: units.toString(),
        amount: null,
        asset: { type: 'token', contract: USDC, symbol: 'USDC', decimals: 6 },
        change: false,
      },
    ],
    fee: { raw: feeWei.toString(), amount: '0' },
    call: {
      contract: USDC,
      selector: '0xa9059cbb',
      name: 'transfer(address,uint256)',
      args: { to, amount: units.toString() },
      category: 'erc20-transfer',
    },
    blind: false,
    warnings: [],
    details: { maxFeePerGas: '20000000000' },
  };
}

export const SPEC_POLICY = {
  version: 7,
  rules: [
    {
      id: 'btc-cold-to-exchange',
      chain: 'btc',
      network: 'mainnet',
      keys: ['vault-1'],
      destinations: [{ address: EXCHANGE, label: 'Exchange hot wallet' }],
      maxAmount: '0.5',
      maxFeeRate: 50,
      velocity: { window: '24h', maxAmount: '2', maxCount: 10 },
      approvals: 2,
    },
    {
      id: 'usdc-payroll',
      chain: 'evm',
      chainIds: [1],
      tokens: [{ contract: USDC, symbol: 'USDC', decimals: 6, maxAmount: '25000' }],
      destinations: [{ address: PAYROLL, label: 'Payroll' }],
      maxFee: '0.01',
      approvals: 1,
    },
  ],
};

export function specPolicy(changes: (doc: typeof SPEC_POLICY) => unknown = (d) => d): PolicyDocument {
  return parsePolicy(changes(structuredClone(SPEC_POLICY)));
}

export const NOW = new Date('2026-03-02T10:00:00.000Z');
export const BTC = 100_000_000n;
