/**
 * A fixed set of requests, one per review variant, built the way coordinators build them (bitcoinjs-lib for PSBTs,
 * ethers for EVM calls and EIP-712 documents), and the policy they are reviewed under. Shared by the review-facts
 * test (CLI text, --json and the app's IPC) and the review screenshots test (headless Chromium).
 */
import * as bitcoin from 'bitcoinjs-lib';
import { Interface, parseEther, parseUnits, ZeroAddress } from 'ethers';
import { buildPsbt, erc20TransferRequest, USDC } from '../../../scripts/demo/coordinator.js';
import {
  eip712DomainType,
  MAIL_TYPES,
  PERMIT_SINGLE_TYPES,
  SAFE_TX_TYPES,
} from '../../support/eip712-types.js';

const NETWORK = bitcoin.networks.bitcoin;
/** A P2WPKH address of a fixed 20-byte hash (BIP-173 encoding), for destinations nobody controls. */
const p2wpkh = (byte: number) =>
  bitcoin.payments.p2wpkh({ hash: Buffer.alloc(20, byte), network: NETWORK }).address!;

export const EXCHANGE = p2wpkh(0x11);
export const TREASURY = p2wpkh(0x22);
export const STRANGERS = [0x33, 0x44, 0x55, 0x66].map(p2wpkh);
export const OPS = '0x1111111111111111111111111111111111111111';
export const PAYROLL = '0x2222222222222222222222222222222222222222';
export const SAFE = '0x3333333333333333333333333333333333333333';
export const ROUTER = '0x3fC91A3afd70395Cd496C647d5a6CC9D4B2b7FAD';
export const PERMIT2 = '0x000000000022D473030F116dDEE9F6B43aC78BA3';
export const OFFICER_PASS = 'alice-passphrase';

export function reviewPolicy(version = 1) {
  return {
    version,
    rules: [
      {
        id: 'btc-exchange',
        chain: 'btc',
        network: 'mainnet',
        keys: ['vault-btc'],
        destinations: [{ address: EXCHANGE, label: 'Exchange hot wallet' }],
        maxAmount: '0.5',
        maxFeeRate: 50,
        approvals: 0,
        // BIP-174 witness_utxo alone proves no amount: the outpoint ledger is what stops two claims for one coin.
        allowWitnessUtxoOnly: true,
        maxFee: '0.001',
      },
      {
        id: 'btc-treasury',
        chain: 'btc',
        network: 'mainnet',
        keys: ['vault-btc'],
        destinations: [{ address: TREASURY, label: 'Treasury cold wallet' }],
        maxAmount: '0.2',
        approvals: 1,
      },
      {
        id: 'eth-ops',
        chain: 'evm',
        chainIds: [1],
        kinds: ['transfer'],
        destinations: [{ address: OPS, label: 'Ops wallet' }],
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
      },
    ],
  };
}

/** Outputs of our own P2WPKH key's UTXO: each [address, sats]; the rest, less the fee, is change to us. */
function multiOutputPsbt(
  ours: string,
  outputs: Array<[string, bigint]>,
  feeSats: bigint,
  utxo: bigint,
): string {
  const script = bitcoin.address.toOutputScript(ours, NETWORK);
  const prev = new bitcoin.Transaction();
  prev.version = 2;
  prev.addInput(new Uint8Array(32).fill(0xab), 0);
  prev.addOutput(script, utxo);
  const psbt = new bitcoin.Psbt({ network: NETWORK });
  psbt.addInput({
    hash: prev.getId(),
    index: 0,
    witnessUtxo: { script, value: utxo },
    nonWitnessUtxo: prev.toBuffer(),
  });
  for (const [address, value] of outputs) psbt.addOutput({ address, value });
  const sent = outputs.reduce((n, [, v]) => n + v, 0n);
  psbt.addOutput({ address: ours, value: utxo - sent - feeSats });
  return psbt.toBase64();
}

const json = (value: unknown) => JSON.stringify(value, null, 2);

function typedData(
  from: string,
  primaryType: string,
  domain: Record<string, unknown>,
  types: Record<string, Array<{ name: string; type: string }>>,
  message: Record<string, unknown>,
) {
  const domainType = eip712DomainType(domain);
  return json({
    type: 'typed_data',
    from,
    typedData: { types: { EIP712Domain: domainType, ...types }, primaryType, domain, message },
  });
}

const ERC20 = new Interface(['function transfer(address to, uint256 amount)']);

/** The review variants, in the order of the screenshots. */
export const REVIEW_VARIANTS = [
  'btc-allowed',
  'btc-refused-6-outputs',
  'btc-high-fee',
  'evm-transfer',
  'evm-erc20',
  'evm-permit2-unlimited',
  'evm-safe',
  'evm-message',
  'evm-typed-data',
] as const;

export interface ReviewRequest {
  /** Screenshot and test name. */
  name: string;
  file: string;
  contents: string | Uint8Array;
  /** What the policy must say. */
  allowed: boolean;
  /** Facts the review must state, as built (the headline's exact text where it is fixed by construction). */
  headline: string;
  amounts: string[];
  destinations: string[];
}

/** The variants of the review, for our keys `btc` (P2WPKH address) and `eth` (EVM address). */
export function reviewRequests(btc: string, eth: string): ReviewRequest[] {
  const psbt = (b64: string) => Buffer.from(b64, 'base64');
  const farFuture = 1_900_000_000; // 2030-03-17
  return [
    {
      name: 'btc-allowed',
      file: 'allowed.psbt',
      contents: psbt(buildPsbt(btc, EXCHANGE, 10_000_000n, 2_000n, [8_000_000n, 5_000_000n])),
      allowed: true,
      headline: 'You send 0.1 BTC to 1 destination + fee 0.00002 BTC',
      amounts: ['0.1 BTC', '0.02998 BTC'],
      destinations: [EXCHANGE],
    },
    {
      name: 'btc-refused-6-outputs',
      file: 'six-outputs.psbt',
      contents: psbt(
        multiOutputPsbt(
          btc,
          [
            [EXCHANGE, 10_000_000n],
            [TREASURY, 5_000_000n],
            ...STRANGERS.map((a, i): [string, bigint] => [a, BigInt(1_000_000 * (i + 1))]),
          ],
          5_000n,
          50_000_000n,
        ),
      ),
      allowed: false,
      headline: 'You send 0.25 BTC to 6 destinations + fee 0.00005 BTC',
      amounts: ['0.1 BTC', '0.05 BTC', '0.01 BTC', '0.04 BTC'],
      destinations: [EXCHANGE, TREASURY, ...STRANGERS],
    },
    {
      name: 'btc-high-fee',
      file: 'high-fee.psbt',
      contents: psbt(buildPsbt(btc, EXCHANGE, 1_000_000n, 250_000n, [2_000_000n])),
      allowed: false,
      headline: 'You send 0.01 BTC to 1 destination + fee 0.0025 BTC',
      amounts: ['0.01 BTC'],
      destinations: [EXCHANGE],
    },
    {
      name: 'evm-transfer',
      file: 'ether.json',
      contents: json({
        type: 'transaction',
        from: eth,
        txType: 2,
        chainId: 1,
        nonce: 4,
        to: OPS,
        value: parseEther('0.75').toString(),
        data: '0x',
        gasLimit: 21000,
        maxFeePerGas: parseUnits('30', 'gwei').toString(),
        maxPriorityFeePerGas: parseUnits('1', 'gwei').toString(),
      }),
      allowed: true,
      headline: 'You send 0.75 ETH to 1 destination + fee at most 0.00063 ETH — total leaving 0.75063 ETH',
      amounts: ['0.75 ETH'],
      destinations: [OPS],
    },
    {
      name: 'evm-erc20',
      file: 'payroll.json',
      contents: erc20TransferRequest(eth, USDC, PAYROLL, '12000', 6, 5),
      allowed: true,
      headline: 'You send 12000',
      amounts: ['USDC'],
      destinations: [PAYROLL],
    },
    {
      name: 'evm-permit2-unlimited',
      file: 'permit2.json',
      contents: typedData(
        eth,
        'PermitSingle',
        { name: 'Permit2', chainId: 1, verifyingContract: PERMIT2 },
        PERMIT_SINGLE_TYPES,
        {
          details: { token: USDC, amount: (2n ** 160n - 1n).toString(), expiration: farFuture, nonce: 0 },
          spender: ROUTER,
          sigDeadline: farFuture,
        },
      ),
      allowed: false,
      headline: 'You sign PermitSingle',
      amounts: [],
      destinations: [],
    },
    {
      name: 'evm-safe',
      file: 'safe.json',
      contents: typedData(eth, 'SafeTx', { chainId: 1, verifyingContract: SAFE }, SAFE_TX_TYPES, {
        to: USDC,
        value: 0,
        data: ERC20.encodeFunctionData('transfer', [PAYROLL, 5_000_000n]),
        operation: 0,
        safeTxGas: 0,
        baseGas: 0,
        gasPrice: 0,
        gasToken: ZeroAddress,
        refundReceiver: ZeroAddress,
        nonce: 3,
      }),
      allowed: false,
      headline: 'You send 5',
      amounts: ['USDC'],
      destinations: [PAYROLL],
    },
    {
      name: 'evm-message',
      file: 'login.json',
      contents: json({ type: 'personal_sign', from: eth, message: 'Sign in to example.org\nNonce: 4242' }),
      allowed: false,
      headline: 'You sign a message; no value moves with it.',
      amounts: [],
      destinations: [],
    },
    {
      name: 'evm-typed-data',
      file: 'mail.json',
      contents: typedData(
        eth,
        'Mail',
        {
          name: 'Ether Mail',
          version: '1',
          chainId: 1,
          verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC',
        },
        MAIL_TYPES,
        {
          from: { name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826' },
          to: { name: 'Bob', wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB' },
          contents: 'Hello, Bob!',
        },
      ),
      allowed: false,
      headline: 'You sign Mail',
      amounts: [],
      destinations: [],
    },
  ];
}

/** The real value of each coin of the ledger conflict, and the amount the coordinator claims for the other one. */
export const LEDGER_COIN = 5_000_000n;
export const LEDGER_LIE = 5_000n;

export interface LedgerConflict {
  /** "txid:vout" of the two coins of our key, each worth LEDGER_COIN. */
  outpoints: [string, string];
  /** Tells the truth about coin 1 and claims LEDGER_LIE for coin 2 (BIP-143: each signature commits to its claim). */
  first: ReviewRequest;
  /** The mirror: claims LEDGER_LIE for coin 1 and tells the truth about coin 2. */
  second: ReviewRequest;
}

/**
 * Two requests spending the same two coins of `btc` (witness_utxo only, BIP-174) to the exchange, each claiming
 * the true amount for one coin and a tiny one for the other (the CVE-2020-14199 class): the valid signature of
 * each would together spend both coins, one of them as fee.
 */
export function ledgerConflictRequests(btc: string): LedgerConflict {
  const script = bitcoin.address.toOutputScript(btc, NETWORK);
  const coins = [0xc1, 0xc2].map((seed) => {
    const prev = new bitcoin.Transaction();
    prev.addInput(new Uint8Array(32).fill(seed), 0);
    prev.addOutput(script, LEDGER_COIN);
    return prev.getId();
  });
  const claiming = (claims: bigint[]) => {
    const psbt = new bitcoin.Psbt({ network: NETWORK });
    coins.forEach((txid, i) =>
      psbt.addInput({ hash: txid, index: 0, witnessUtxo: { script, value: claims[i]! } }),
    );
    psbt.addOutput({ address: EXCHANGE, value: LEDGER_COIN });
    return psbt.toBuffer();
  };
  const request = (name: string, claims: bigint[], allowed: boolean): ReviewRequest => ({
    name,
    file: `${name}.psbt`,
    contents: claiming(claims),
    allowed,
    headline: 'You send 0.05 BTC to 1 destination + fee 0.00005 BTC',
    amounts: ['0.05 BTC'],
    destinations: [EXCHANGE],
  });
  return {
    outpoints: [`${coins[0]}:0`, `${coins[1]}:0`],
    first: request('btc-ledger-first', [LEDGER_COIN, LEDGER_LIE], true),
    second: request('btc-ledger-refused', [LEDGER_LIE, LEDGER_COIN], false),
  };
}
