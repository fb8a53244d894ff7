/**
 * The EVM attacks of the signing-safety review, built with ethers as a hostile coordinator would build them,
 * and the victim policy they were meant to slip past. Each builder returns a JSON request document.
 */
import {
  Interface,
  MaxUint256,
  TypedDataEncoder,
  Wallet,
  ZeroAddress,
  getAddress,
  type TypedDataField,
} from 'ethers';
import {
  PERMIT_BATCH_TYPES,
  PERMIT_SINGLE_TYPES,
  PERMIT_TYPES,
  SAFE_TX_TYPES,
} from '../../support/eip712-types.js';

export { SAFE_TX_TYPES };

export const ATTACKER = getAddress('0xa77ac3e0000000000000000000000000000a77ac');
export const PAYROLL = getAddress('0x9a790110000000000000000000000000009a7901');
export const OPS = getAddress('0x0b500000000000000000000000000000000000b5');
export const ROUTER = getAddress('0x70a7e20000000000000000000000000000070a7e');
export const FAKE_TOKEN = getAddress('0xfa4e000000000000000000000000000000000fa4');
export const DAI = getAddress('0x6B175474E89094C44Da98b954EedeAC495271d0F');
export const PERMIT2 = '0x000000000022D473030F116dDEE9F6B43aC78BA3';
export const USDC_MAINNET = getAddress('0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48');

export const ERC20 = new Interface([
  'function transfer(address to, uint256 amount) returns (bool)',
  'function approve(address spender, uint256 amount) returns (bool)',
  'function balanceOf(address) view returns (uint256)',
]);
export const SAFE = new Interface([
  'function setup(address[] owners, uint256 threshold, address to, bytes data, address fallbackHandler, address paymentToken, uint256 payment, address paymentReceiver)',
  'function execTransaction(address to, uint256 value, bytes data, uint8 operation, uint256 safeTxGas, uint256 baseGas, uint256 gasPrice, address gasToken, address refundReceiver, bytes signatures) payable returns (bool)',
  'function nonce() view returns (uint256)',
]);

/** Where the attacks run: chain, our signing address, the token and the Safe. */
export interface Scene {
  chainId: number;
  ours: string;
  token: string;
  safe: string;
}

const FEES = { gasLimit: 400_000, maxFeePerGas: '30000000000', maxPriorityFeePerGas: '1000000000' };

export function transaction(scene: Scene, nonce: number, fields: Record<string, unknown>) {
  return { type: 'transaction', from: scene.ours, chainId: scene.chainId, nonce, ...FEES, ...fields };
}

/** Safe 1.3.0 pre-validated signature (v = 1): the owner is msg.sender of execTransaction. */
export function ownerSenderSignature(owner: string): string {
  return `0x${owner.slice(2).toLowerCase().padStart(64, '0')}${'00'.repeat(32)}01`;
}

export interface SafeTxFields {
  to: string;
  value: bigint;
  data: string;
  operation: number;
  safeTxGas: bigint;
  baseGas: bigint;
  gasPrice: bigint;
  gasToken: string;
  refundReceiver: string;
  nonce: bigint;
}

/** Item 1: the inner call pays Payroll 5 USDC; the refund pays the attacker (safeTxGas + baseGas) × gasPrice USDC. */
export function refundDrainFields(scene: Scene, overrides: Partial<SafeTxFields> = {}): SafeTxFields {
  return {
    to: scene.token,
    value: 0n,
    data: ERC20.encodeFunctionData('transfer', [PAYROLL, 5_000_000n]),
    operation: 0,
    safeTxGas: 100_000n,
    baseGas: 999_000_000_000n,
    gasPrice: 1n,
    gasToken: scene.token,
    refundReceiver: ATTACKER,
    nonce: 0n,
    ...overrides,
  };
}

export function execTransactionData(f: SafeTxFields, signatures: string): string {
  return SAFE.encodeFunctionData('execTransaction', [
    f.to,
    f.value,
    f.data,
    f.operation,
    f.safeTxGas,
    f.baseGas,
    f.gasPrice,
    f.gasToken,
    f.refundReceiver,
    signatures,
  ]);
}

/** eth_signTypedData_v4 JSON (EIP712Domain declared, integers as decimal strings) from ethers' payload. */
export function typedRequest(
  scene: Scene,
  domain: Record<string, unknown>,
  types: Record<string, TypedDataField[]>,
  message: Record<string, unknown>,
) {
  return {
    type: 'typed_data',
    from: scene.ours,
    typedData: TypedDataEncoder.getPayload(domain, types, message),
  };
}

export function safeTxTyped(scene: Scene, f: SafeTxFields) {
  return typedRequest(scene, { chainId: scene.chainId, verifyingContract: scene.safe }, SAFE_TX_TYPES, {
    ...f,
  });
}

/** Item 2: 5 ETH to the attacker's EOA, dressed as a zero transfer of "tokens" to ourselves. */
export function disguisedEth(scene: Scene, nonce = 0) {
  return transaction(scene, nonce, {
    to: ATTACKER,
    value: (5n * 10n ** 18n).toString(),
    data: ERC20.encodeFunctionData('transfer', [scene.ours, 0n]),
  });
}

export function eip2612Permit(scene: Scene, value: bigint, deadline: bigint) {
  return typedRequest(
    scene,
    { name: 'USD Coin', version: '2', chainId: scene.chainId, verifyingContract: scene.token },
    PERMIT_TYPES,
    { owner: scene.ours, spender: ROUTER, value, nonce: 0n, deadline },
  );
}

export function permit2Single(
  scene: Scene,
  token: string,
  amount: bigint,
  expiration: bigint,
  sigDeadline: bigint,
) {
  return typedRequest(
    scene,
    { name: 'Permit2', chainId: scene.chainId, verifyingContract: PERMIT2 },
    PERMIT_SINGLE_TYPES,
    { details: { token, amount, expiration, nonce: 0n }, spender: ROUTER, sigDeadline },
  );
}

export function permit2Batch(
  scene: Scene,
  grants: Array<{ token: string; amount: bigint; expiration: bigint }>,
  sigDeadline: bigint,
) {
  return typedRequest(
    scene,
    { name: 'Permit2', chainId: scene.chainId, verifyingContract: PERMIT2 },
    PERMIT_BATCH_TYPES,
    { details: grants.map((g) => ({ ...g, nonce: 0n })), spender: ROUTER, sigDeadline },
  );
}

export const MAX_UINT48 = (1n << 48n) - 1n;
export const NEAR_UNLIMITED_APPROVALS: Array<[string, bigint]> = [
  ['2^256 − 1', MaxUint256],
  ['2^256 − 2', MaxUint256 - 1n],
  ['2^255', 1n << 255n],
  ['2^160 − 2', (1n << 160n) - 2n],
];

/** Item 6: a type-4 transaction whose authorization hands `authority`'s account to the attacker's contract. */
export function delegationTx(scene: Scene, authority: Wallet, authChainId: bigint, nonce = 0) {
  const auth = authority.authorizeSync({ address: ATTACKER, chainId: authChainId, nonce: 0n });
  return transaction(scene, nonce, {
    to: OPS,
    value: '1',
    authorizationList: [
      {
        chainId: auth.chainId.toString(),
        address: auth.address,
        nonce: auth.nonce.toString(),
        yParity: auth.signature.yParity,
        r: auth.signature.r,
        s: auth.signature.s,
      },
    ],
  });
}

/** The rules a custody team wrote, each of which one attack tried to slip past. */
export function victimPolicy(scene: Scene, version = 1) {
  const usdc = (maxAmount: string, extra: Record<string, unknown> = {}) => ({
    contract: scene.token,
    symbol: 'USDC',
    decimals: 6,
    maxAmount,
    ...extra,
  });
  const payroll = [{ address: PAYROLL, label: 'Payroll' }];
  return {
    version,
    rules: [
      {
        id: 'usdc-payroll',
        chain: 'evm',
        chainIds: [scene.chainId],
        kinds: ['token_transfer'],
        tokens: [usdc('25000')],
        destinations: payroll,
        maxFee: '0.05',
      },
      {
        id: 'tok-contracts',
        chain: 'evm',
        chainIds: [scene.chainId],
        kinds: ['token_transfer'],
        contracts: [{ address: scene.token, label: 'USDC', selectors: ['0xa9059cbb'] }],
        tokens: [usdc('100')],
        destinations: payroll,
      },
      {
        id: 'safe-payroll',
        chain: 'evm',
        chainIds: [scene.chainId],
        kinds: ['contract_call', 'typed_data'],
        contracts: [{ address: scene.safe, label: 'Treasury Safe', selectors: ['0x6a761202'] }],
        typedDataDomains: [{ chainId: scene.chainId, verifyingContract: scene.safe }],
        tokens: [usdc('10')],
        destinations: payroll,
      },
      {
        id: 'dex-approve',
        chain: 'evm',
        chainIds: [scene.chainId],
        kinds: ['contract_call', 'typed_data'],
        tokens: [usdc('1000', { approvalMaxDeadline: '7d' })],
        destinations: [{ address: ROUTER, label: 'DEX router (spender)' }],
        typedDataDomains: [
          { name: 'USD Coin', chainId: scene.chainId, verifyingContract: scene.token },
          { name: 'Permit2', chainId: scene.chainId, verifyingContract: PERMIT2 },
        ],
      },
      {
        id: 'eth-ops',
        chain: 'evm',
        chainIds: [scene.chainId],
        kinds: ['transfer'],
        destinations: [{ address: OPS, label: 'Ops' }],
        maxAmount: '1',
      },
    ],
  };
}

export { MaxUint256, ZeroAddress };
