/**
 * The treasury policy the end-to-end tests run under: small Bitcoin payments to the exchange, ETH to the ops
 * wallet, USDC payroll with one officer's approval. Destinations nobody here controls.
 */
import * as bitcoin from 'bitcoinjs-lib';
import { USDC } from '../../scripts/demo/coordinator.js';

/** A P2WPKH (BIP-173) address of the secp256k1 generator point's public key. */
export const EXCHANGE = bitcoin.payments.p2wpkh({
  pubkey: Buffer.from('0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798', 'hex'),
}).address!;
export const OPS = '0x1111111111111111111111111111111111111111';
export const PAYROLL = '0x2222222222222222222222222222222222222222';

/** Rules btc-small (key vault-btc), eth-ops and usdc-payroll (1 approval), at `version`. */
export function treasuryPolicy(version: number) {
  return {
    version,
    rules: [
      {
        id: 'btc-small',
        chain: 'btc',
        network: 'mainnet',
        keys: ['vault-btc'],
        destinations: [{ address: EXCHANGE, label: 'Exchange' }],
        maxAmount: '0.5',
        maxFeeRate: 50,
        approvals: 0,
      },
      {
        id: 'eth-ops',
        chain: 'evm',
        chainIds: [1],
        kinds: ['transfer'],
        destinations: [{ address: OPS, label: 'Ops' }],
        maxAmount: '1',
        maxFee: '0.01',
      },
      {
        id: 'usdc-payroll',
        chain: 'evm',
        chainIds: [1],
        kinds: ['token_transfer'],
        tokens: [{ contract: USDC, symbol: 'USDC', decimals: 6, maxAmount: '25000' }],
        destinations: [{ address: PAYROLL, label: 'Payroll' }],
        maxFee: '0.01',
        approvals: 1,
      },
    ],
  };
}
