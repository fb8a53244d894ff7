/** summarizeEvm: key resolution, native and ERC-20 movements, approvals, Safe, permits, blind calls, details. */
import { describe, expect, it } from 'vitest';
import { Interface, MaxUint256, ZeroAddress, getAddress } from 'ethers';
import { parseEvmRequest, summarizeEvm } from '../../chains/evm/index.js';
import { PERMIT2_ADDRESS } from '../../chains/evm/typed-decode.js';
import { doc, expectCode, utf8 } from './helpers.js';
import { BOB, KEY_A, KEY_B, SPENDER, USDC, unsignedHex } from './fixtures.js';
import {
  eip712DomainType,
  PERMIT_SINGLE_TYPES,
  PERMIT_TRANSFER_FROM_TYPES,
  PERMIT_TYPES,
  SAFE_TX_TYPES,
} from '../support/eip712-types.js';

// The ABIs the decoder uses; the selectors are checked against their published values below.
// Calldata is built with ethers' ABI coder, independently of the viem decoder under test.
const ERC20 = new Interface([
  'function transfer(address to, uint256 amount)',
  'function approve(address spender, uint256 amount)',
  'function transferFrom(address from, address to, uint256 amount)',
  'function increaseAllowance(address spender, uint256 addedValue)',
]);
const SAFE = new Interface([
  'function execTransaction(address to, uint256 value, bytes data, uint8 operation, uint256 safeTxGas, uint256 baseGas, uint256 gasPrice, address gasToken, address refundReceiver, bytes signatures)',
]);
const SAFE_ADDRESS = getAddress('0x5afe3855358e112b5647b952709e6165e1c1eeee');

const tx = (fields: Parameters<typeof unsignedHex>[0]) => parseEvmRequest(utf8(unsignedHex(fields)));
const summarize = (
  fields: Parameters<typeof unsignedHex>[0],
  tokens: Parameters<typeof summarizeEvm>[2] = [],
) => summarizeEvm(tx(fields), [KEY_A], tokens).summary;

function typed(
  primaryType: string,
  types: Record<string, Array<{ name: string; type: string }>>,
  domain: Record<string, unknown>,
  message: Record<string, unknown>,
) {
  const domainType = eip712DomainType(domain);
  return summarizeEvm(
    parseEvmRequest(
      doc({
        type: 'typed_data',
        typedData: { types: { EIP712Domain: domainType, ...types }, primaryType, domain, message },
      }),
    ),
    [KEY_A],
    [],
  ).summary;
}

describe('keys', () => {
  it('uses the only EVM key when the request names no "from" (btc keys are ignored)', () => {
    const btc = { ...KEY_B, chain: 'btc' as const, label: 'btc-1' };
    const { summary, plan } = summarizeEvm(tx({}), [btc, KEY_A], []);
    expect(summary.signingKeys).toEqual(['vault-a']);
    expect(plan.address).toBe(KEY_A.address);
    expect(plan.keyId).toBe(KEY_A.keyId);
  });
  it('refuses a "from" that is not ours, asks for one among several keys, and needs at least one key', () => {
    const fromB = parseEvmRequest(doc({ type: 'personal_sign', from: KEY_B.address, message: 'x' }));
    expectCode(() => summarizeEvm(fromB, [KEY_A], []), 'EVM_FROM_MISMATCH');
    expect(summarizeEvm(fromB, [KEY_A, KEY_B], []).plan.keyLabel).toBe('vault-b');
    expectCode(() => summarizeEvm(tx({}), [KEY_A, KEY_B], []), 'EVM_FROM_REQUIRED');
    expectCode(() => summarizeEvm(tx({}), [], []), 'KEY_NOT_FOUND');
  });
});

describe('transactions', () => {
  it('native transfer: movement in ETH, maximum fee = gasLimit × maxFeePerGas, SPEC details', () => {
    const s = summarize({
      value: 1_500_000_000_000_000_000n,
      gasLimit: 21000n,
      maxFeePerGas: 40_000_000_000n,
      maxPriorityFeePerGas: 2n,
    });
    expect(s.chainId).toBe(1);
    expect(s.movements).toEqual([
      {
        channel: 'native',
        from: KEY_A.address,
        to: BOB,
        raw: '1500000000000000000',
        amount: '1.5',
        asset: { type: 'native', symbol: 'ETH' },
        change: false,
      },
    ]);
    expect(s.fee).toEqual({ raw: '840000000000000', amount: '0.00084' });
    expect(s.blind).toBe(false);
    expect(s.details).toMatchObject({
      kind: 'transaction',
      txType: 2,
      chainId: 1,
      from: KEY_A.address,
      to: BOB,
      value: '1500000000000000000',
      nonce: 7,
      gasLimit: '21000',
      maxFeePerGas: '40000000000',
      maxPriorityFeePerGas: '2',
      maxFee: '840000000000000',
      maxFeeEth: '0.00084',
      call: null,
      blind: false,
    });
  });

  it('legacy fee = gasLimit × gasPrice; a transfer to another of our keys is change', () => {
    const raw = unsignedHex({ type: 0, to: KEY_B.address, value: 5n, gasPrice: 10n, gasLimit: 21000n });
    const s = summarizeEvm(
      parseEvmRequest(doc({ type: 'transaction', from: KEY_A.address, raw })),
      [KEY_A, KEY_B],
      [],
    );
    expect(s.summary.fee?.raw).toBe('210000');
    expect(s.summary.details.gasPrice).toBe('10');
    expect(s.summary.movements[0]?.change).toBe(true);
  });

  it('ERC-20 transfer of a shipped mainnet token is shown in token units', () => {
    const s = summarize({
      to: USDC,
      gasLimit: 60000n,
      data: ERC20.encodeFunctionData('transfer', [BOB, 12_500_000n]),
    });
    expect(s.call).toMatchObject({
      contract: USDC,
      selector: '0xa9059cbb',
      name: 'transfer(address,uint256)',
      category: 'erc20-transfer',
      args: { to: BOB, amount: '12500000' },
    });
    expect(s.movements).toEqual([
      {
        channel: 'call',
        from: KEY_A.address,
        to: USDC,
        raw: '0',
        amount: '0.0',
        asset: { type: 'native', symbol: 'ETH' },
        change: false,
        selector: '0xa9059cbb',
      },
      {
        channel: 'token-transfer',
        from: KEY_A.address,
        to: BOB,
        raw: '12500000',
        amount: '12.5',
        asset: { type: 'token', contract: USDC, symbol: 'USDC', decimals: 6 },
        change: false,
      },
    ]);
    expect(s.blind).toBe(false);
  });

  it('the same contract on another chain is not the shipped token: raw amount only; a policy token gives units', () => {
    const data = ERC20.encodeFunctionData('transfer', [BOB, 12_500_000n]);
    const s = summarize({ chainId: 5n, to: USDC, gasLimit: 60000n, data });
    expect(s.movements[1]).toMatchObject({
      raw: '12500000',
      amount: null,
      asset: { type: 'token', contract: USDC },
    });
    const p = summarize({ chainId: 5n, to: USDC, gasLimit: 60000n, data }, [
      { contract: USDC.toLowerCase(), symbol: 'tUSDC', decimals: 6 },
    ]);
    expect(p.movements[1]).toMatchObject({ amount: '12.5', asset: { symbol: 'tUSDC', decimals: 6 } });
  });

  it('unlimited approve is flagged; a limited one is a spending approval', () => {
    const u = summarize({
      to: USDC,
      gasLimit: 60000n,
      data: ERC20.encodeFunctionData('approve', [SPENDER, MaxUint256]),
    });
    expect(u.call).toMatchObject({
      category: 'erc20-approve',
      spendingApproval: true,
      unlimited: true,
      args: { spender: SPENDER },
    });
    expect(u.warnings.join(' ')).toMatch(/UNLIMITED approval/);
    expect(u.movements[1]).toEqual({
      channel: 'approval',
      from: KEY_A.address,
      to: SPENDER,
      raw: MaxUint256.toString(),
      amount: '115792089237316195423570985008687907853269984665640564039457584007913129.639935',
      asset: { type: 'token', contract: USDC, symbol: 'USDC', decimals: 6 },
      change: false,
      unbounded: true,
    });
    // 2^255 and 2^256 − 2 are no plausible cap either.
    for (const near of [1n << 255n, MaxUint256 - 1n, 1n << 128n]) {
      const n = summarize({
        to: USDC,
        gasLimit: 60000n,
        data: ERC20.encodeFunctionData('approve', [SPENDER, near]),
      });
      expect(n.movements[1]?.unbounded).toBe(true);
      expect(n.call?.unlimited).toBe(true);
    }
    const l = summarize({
      to: USDC,
      gasLimit: 60000n,
      data: ERC20.encodeFunctionData('increaseAllowance', [SPENDER, 1_000_000n]),
    });
    expect(l.call).toMatchObject({
      category: 'erc20-increaseAllowance',
      spendingApproval: true,
      unlimited: false,
      args: { addedValue: '1000000' },
    });
    expect(l.warnings.join(' ')).toContain('1.0 USDC');
    expect(l.movements[1]).toMatchObject({ channel: 'approval', to: SPENDER, raw: '1000000' });
    expect(l.movements[1]?.unbounded).toBeUndefined();
  });

  it('transferFrom moves tokens to the recipient and warns when the owner is not ours', () => {
    const s = summarize({
      to: USDC,
      gasLimit: 60000n,
      data: ERC20.encodeFunctionData('transferFrom', [SPENDER, BOB, 1n]),
    });
    expect(s.call?.category).toBe('erc20-transferFrom');
    expect(s.movements[1]).toMatchObject({ channel: 'token-transfer', from: SPENDER, to: BOB, raw: '1' });
    expect(s.warnings.join(' ')).toContain('not one of our keys');
  });

  it('unknown calldata is blind with its selector; non-canonical ERC-20 calldata (trailing bytes) too', () => {
    const s = summarize({ to: SPENDER, gasLimit: 60000n, data: '0xdeadbeef0000' });
    expect(s.blind).toBe(true);
    expect(s.call).toEqual({ contract: SPENDER, selector: '0xdeadbeef', name: null, args: {} });
    expect(s.details.blind).toBe(true);
    const trailing = `${ERC20.encodeFunctionData('transfer', [BOB, 1n])}00`;
    expect(summarize({ to: USDC, gasLimit: 60000n, data: trailing }).blind).toBe(true);
    // an address word with dirty high bytes is not a canonical address argument
    const dirty = ERC20.encodeFunctionData('transfer', [BOB, 1n]).replace(/^(0x.{8})000000/, '$1ff0000');
    expect(summarize({ to: USDC, gasLimit: 60000n, data: dirty }).blind).toBe(true);
  });

  it('contract creation is blind', () => {
    const s = summarize({ to: null, gasLimit: 100000n, data: '0x6000' });
    expect(s.blind).toBe(true);
    expect(s.call?.category).toBe('contract-creation');
  });

  const exec = (operation: number, inner: string, innerTo = USDC) =>
    SAFE.encodeFunctionData('execTransaction', [
      innerTo,
      0n,
      inner,
      operation,
      0n,
      0n,
      0n,
      ZeroAddress,
      ZeroAddress,
      '0x',
    ]);

  it('the ABIs have the published selectors (transfer, approve, transferFrom, increaseAllowance, execTransaction)', () => {
    expect(
      ['transfer', 'approve', 'transferFrom', 'increaseAllowance'].map((f) => ERC20.getFunction(f)!.selector),
    ).toEqual(['0xa9059cbb', '0x095ea7b3', '0x23b872dd', '0x39509351']);
    expect(SAFE.getFunction('execTransaction')!.selector).toBe('0x6a761202');
  });

  it('Safe execTransaction (call) is decoded with the inner ERC-20 transfer', () => {
    const s = summarize({
      to: SAFE_ADDRESS,
      gasLimit: 200000n,
      data: exec(0, ERC20.encodeFunctionData('transfer', [BOB, 2_000_000n])),
    });
    expect(s.call).toMatchObject({
      contract: SAFE_ADDRESS,
      category: 'safe-exec',
      delegatecall: false,
      args: { operation: '0', 'inner.function': 'transfer(address,uint256)', 'inner.to': BOB },
    });
    expect(s.movements).toEqual([
      {
        channel: 'call',
        from: KEY_A.address,
        to: SAFE_ADDRESS,
        raw: '0',
        amount: '0.0',
        asset: { type: 'native', symbol: 'ETH' },
        change: false,
        selector: '0x6a761202',
      },
      {
        channel: 'safe-call',
        from: SAFE_ADDRESS,
        to: USDC,
        raw: '0',
        amount: '0.0',
        asset: { type: 'native', symbol: 'ETH' },
        change: false,
        selector: '0xa9059cbb',
      },
      {
        channel: 'token-transfer',
        from: SAFE_ADDRESS,
        to: BOB,
        raw: '2000000',
        amount: '2.0',
        asset: { type: 'token', contract: USDC, symbol: 'USDC', decimals: 6 },
        change: false,
      },
    ]);
    expect(s.blind).toBe(false);
  });

  it('Safe execTransaction with operation = 1 (delegatecall) is flagged loudly and blind', () => {
    const s = summarize({ to: SAFE_ADDRESS, gasLimit: 200000n, data: exec(1, '0x12345678', SPENDER) });
    expect(s.call).toMatchObject({ category: 'safe-exec', delegatecall: true, args: { operation: '1' } });
    expect(s.blind).toBe(true);
    expect(s.warnings[0]).toMatch(/^DANGER: Safe operation = 1 \(DELEGATECALL\)/);
  });
});

describe('messages and typed data', () => {
  it('personal_sign shows printable text; binary messages only as hex, with a warning', () => {
    const t = summarizeEvm(
      parseEvmRequest(doc({ type: 'personal_sign', message: 'Sign in to example.org\nNonce: 42' })),
      [KEY_A],
      [],
    ).summary;
    expect(t.kind).toBe('message');
    expect(t.message?.text).toBe('Sign in to example.org\nNonce: 42');
    expect(t.fee).toBeNull();
    const b = summarizeEvm(
      parseEvmRequest(doc({ type: 'personal_sign', messageHex: `0x${'00ff'.repeat(16)}` })),
      [KEY_A],
      [],
    ).summary;
    expect(b.message).toEqual({ text: null, hex: `0x${'00ff'.repeat(16)}` });
    expect(b.warnings.join(' ')).toMatch(/not printable.*32 bytes/s);
  });

  const usdcDomain = { name: 'USD Coin', version: '2', chainId: 1, verifyingContract: USDC };

  it('EIP-2612 Permit is a spending approval, unlimited when value = 2^256 - 1', () => {
    const s = typed('Permit', PERMIT_TYPES, usdcDomain, {
      owner: KEY_A.address,
      spender: SPENDER,
      value: MaxUint256.toString(),
      nonce: 0,
      deadline: 1900000000,
    });
    expect(s.call).toMatchObject({
      contract: USDC,
      category: 'permit',
      spendingApproval: true,
      unlimited: true,
      args: { spender: SPENDER },
    });
    expect(s.typedData).toEqual({
      domain: { name: 'USD Coin', version: '2', chainId: '1', verifyingContract: USDC },
      primaryType: 'Permit',
    });
    expect(s.warnings.join(' ')).toMatch(/UNLIMITED permit/);
    expect(s.blind).toBe(false);
    const limited = typed('Permit', PERMIT_TYPES, usdcDomain, {
      owner: KEY_A.address,
      spender: SPENDER,
      value: '5000000',
      nonce: 0,
      deadline: 1,
    });
    expect(limited.call?.unlimited).toBe(false);
    expect(limited.warnings.join(' ')).toContain('5.0 USDC');
    expect(limited.warnings.join(' ')).not.toContain('owner');
    const foreign = typed('Permit', PERMIT_TYPES, usdcDomain, {
      owner: BOB,
      spender: SPENDER,
      value: '1',
      nonce: 0,
      deadline: 1,
    });
    expect(foreign.warnings.join(' ')).toContain(`The permit's owner ${BOB} is not one of our keys.`);
  });

  it('Permit2 PermitSingle and PermitTransferFrom are spending approvals', () => {
    const types = PERMIT_SINGLE_TYPES;
    const domain = { name: 'Permit2', chainId: 1, verifyingContract: PERMIT2_ADDRESS };
    const s = typed('PermitSingle', types, domain, {
      details: { token: USDC, amount: ((1n << 160n) - 1n).toString(), expiration: 1900000000, nonce: 0 },
      spender: SPENDER,
      sigDeadline: 1900000000,
    });
    expect(s.call).toMatchObject({
      category: 'permit2',
      spendingApproval: true,
      unlimited: true,
      args: { 'details.token': USDC, spender: SPENDER },
    });
    const transferTypes = PERMIT_TRANSFER_FROM_TYPES;
    const t = typed('PermitTransferFrom', transferTypes, domain, {
      permitted: { token: USDC, amount: 3_000_000 },
      spender: SPENDER,
      nonce: 1,
      deadline: 2,
    });
    expect(t.call).toMatchObject({
      category: 'permit2',
      unlimited: false,
      args: { 'permitted.amount': '3000000' },
    });
    expect(t.warnings.join(' ')).toContain('3.0 USDC');
  });

  const SAFE_TX = SAFE_TX_TYPES;
  const safeMessage = (operation: number, data: string) => ({
    to: USDC,
    value: 0,
    data,
    operation,
    safeTxGas: 0,
    baseGas: 0,
    gasPrice: 0,
    gasToken: ZeroAddress,
    refundReceiver: ZeroAddress,
    nonce: 3,
  });

  it('Safe SafeTx typed data is decoded; operation = 1 is flagged loudly', () => {
    const ok = typed(
      'SafeTx',
      SAFE_TX,
      { chainId: 1, verifyingContract: SAFE_ADDRESS },
      safeMessage(0, ERC20.encodeFunctionData('transfer', [BOB, 1_000_000n])),
    );
    expect(ok.call).toMatchObject({
      contract: getAddress(SAFE_ADDRESS),
      category: 'safe-exec',
      delegatecall: false,
      args: { nonce: '3', 'inner.to': BOB },
    });
    expect(ok.movements.map((m) => m.channel)).toEqual(['safe-call', 'token-transfer']);
    expect(ok.movements[1]).toMatchObject({ from: getAddress(SAFE_ADDRESS), to: BOB, amount: '1.0' });
    const bad = typed(
      'SafeTx',
      SAFE_TX,
      { chainId: 1, verifyingContract: SAFE_ADDRESS },
      safeMessage(1, '0x'),
    );
    expect(bad.call?.delegatecall).toBe(true);
    expect(bad.blind).toBe(true);
    expect(bad.warnings.join(' ')).toMatch(/DANGER: Safe operation = 1 \(DELEGATECALL\)/);
  });

  it('unrecognised typed data is blind, and a domain without chainId is warned about', () => {
    const s = typed(
      'Vote',
      { Vote: [{ name: 'proposal', type: 'uint256' }] },
      { name: 'DAO' },
      { proposal: 4 },
    );
    expect(s.blind).toBe(true);
    expect(s.chainId).toBeUndefined();
    expect(s.warnings.join(' ')).toMatch(/not a recognised kind.*no chainId/s);
    expect(s.details).toMatchObject({
      kind: 'typed_data',
      primaryType: 'Vote',
      message: { proposal: '4' },
      blind: true,
    });
  });
});
