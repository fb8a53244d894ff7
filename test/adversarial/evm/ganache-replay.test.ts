/**
 * Items 1 and 2 of the EVM review, replayed on an in-process ganache (chainId 1337) with the published Safe
 * 1.3.0 bytecode behind a GnosisSafeProxy and a real ERC-20: signed by a throwaway in-memory key (never the
 * HSM path), the attacker's requests move the money; the same request bytes, judged by coldsign's pure
 * appliance (prepare + evaluate) under the victim policy, are refused.
 */
import { createRequire } from 'node:module';
import ganache from 'ganache';
import {
  AbiCoder,
  Signature,
  Transaction,
  Wallet,
  concat,
  getAddress,
  hexlify,
  parseEther,
  type TypedDataField,
} from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evmDigest, parseEvmRequest } from '../../../chains/evm/index.js';
import type { ParsedEvmTransaction } from '../../../chains/evm/types.js';
import { erc20CreationCode } from '../../evm/erc20-bytecode.js';
import {
  ATTACKER,
  ERC20,
  PAYROLL,
  SAFE,
  SAFE_TX_TYPES,
  ZeroAddress,
  disguisedEth,
  execTransactionData,
  ownerSenderSignature,
  refundDrainFields,
  safeTxTyped,
  transaction,
  victimPolicy,
  type Scene,
} from './attacks.js';
import { judge, throwawayKey } from './judge.js';

const CHAIN_ID = 1337;
const require = createRequire(import.meta.url);
const artifact = (path: string) =>
  (require(`@gnosis.pm/safe-contracts/build/artifacts/contracts/${path}`) as { bytecode: string }).bytecode;
const SAFE_SINGLETON_CODE = artifact('GnosisSafe.sol/GnosisSafe.json');
const SAFE_PROXY_CODE = artifact('proxies/GnosisSafeProxy.sol/GnosisSafeProxy.json');
const USDC = 10n ** 6n;

type Provider = ReturnType<typeof ganache.provider>;
let node: Provider;
const ours = throwawayKey('eth-1');
const relayer = new Wallet(Wallet.createRandom().privateKey);
const scene: Scene = { chainId: CHAIN_ID, ours: ours.wallet.address, token: '', safe: '' };
const nonces = new Map<string, number>();

const rpc = <T>(method: string, params: unknown[] = []): Promise<T> =>
  node.request({ method, params } as never) as Promise<T>;

/** Signs exactly the bytes coldsign would have signed (its digest of the parsed request) and mines them. */
async function signAndMine(request: Record<string, unknown>, wallet: Wallet = ours.wallet) {
  const parsed = parseEvmRequest(new TextEncoder().encode(JSON.stringify(request))) as ParsedEvmTransaction;
  // ethers (independent of coldsign's codec) builds the transaction from the reviewed bytes
  const tx = Transaction.from(hexlify(parsed.canonical));
  expect(tx.unsignedHash).toBe(evmDigest(parsed));
  tx.signature = Signature.from(wallet.signingKey.sign(evmDigest(parsed)));
  expect(tx.from).toBe(wallet.address);
  const hash = await rpc<string>('eth_sendRawTransaction', [tx.serialized]);
  nonces.set(wallet.address, (nonces.get(wallet.address) ?? 0) + 1);
  return rpc<{ status: string; contractAddress: string | null }>('eth_getTransactionReceipt', [hash]);
}

const nextNonce = (address: string) => nonces.get(address) ?? 0;
const balanceOf = async (holder: string) =>
  BigInt(
    await rpc<string>('eth_call', [
      { to: scene.token, data: ERC20.encodeFunctionData('balanceOf', [holder]) },
      'latest',
    ]),
  );
const ethBalance = async (holder: string) => BigInt(await rpc<string>('eth_getBalance', [holder, 'latest']));

async function deploy(data: string): Promise<string> {
  const receipt = await signAndMine(
    transaction(scene, nextNonce(ours.wallet.address), { data, gasLimit: 6_000_000 }),
  );
  expect(receipt.status).toBe('0x1');
  return getAddress(receipt.contractAddress!);
}

beforeAll(async () => {
  node = ganache.provider({
    chain: { chainId: CHAIN_ID, hardfork: 'shanghai' },
    wallet: { totalAccounts: 0 },
    logging: { quiet: true },
  });
  for (const who of [ours.wallet.address, relayer.address])
    await rpc('evm_setAccountBalance', [who, `0x${parseEther('100').toString(16)}`]);
  scene.token = await deploy(erc20CreationCode(2_000_000n * USDC));
  const singleton = await deploy(SAFE_SINGLETON_CODE);
  scene.safe = await deploy(
    concat([SAFE_PROXY_CODE, AbiCoder.defaultAbiCoder().encode(['address'], [singleton])]),
  );
  const setup = SAFE.encodeFunctionData('setup', [
    [ours.wallet.address],
    1,
    ZeroAddress,
    '0x',
    ZeroAddress,
    ZeroAddress,
    0,
    ZeroAddress,
  ]);
  expect(
    (await signAndMine(transaction(scene, nextNonce(ours.wallet.address), { to: scene.safe, data: setup })))
      .status,
  ).toBe('0x1');
  const fund = ERC20.encodeFunctionData('transfer', [scene.safe, 1_000_000n * USDC]);
  expect(
    (await signAndMine(transaction(scene, nextNonce(ours.wallet.address), { to: scene.token, data: fund })))
      .status,
  ).toBe('0x1');
});

afterAll(async () => {
  await node?.disconnect();
});

describe('item 1: Safe gas-refund drain (Safe 1.3.0 behind a proxy, on ganache)', () => {
  it('execTransaction paying Payroll 5 USDC with baseGas 999000e6 × gasPrice 1 in USDC: the attacker is paid ~999,000 USDC; coldsign refuses the same bytes', async () => {
    const fields = refundDrainFields(scene, { nonce: 0n });
    const request = transaction(scene, nextNonce(ours.wallet.address), {
      to: scene.safe,
      data: execTransactionData(fields, ownerSenderSignature(ours.wallet.address)),
    });
    const verdict = await judge(request, [ours.record], victimPolicy(scene));
    expect(verdict.decision.allowed).toBe(false);
    expect(verdict.decision.closestRule).toBe('safe-payroll');
    const refund = verdict.summary.movements.find((m) => m.channel === 'safe-refund');
    expect(refund).toMatchObject({
      from: scene.safe,
      to: ATTACKER,
      // (safeTxGas + 40,000 + 518 × 5 words of data + baseGas) × gasPrice (docs/evm-requests.md "Safe gas refunds")
      raw: ((100_000n + 42_590n + 999_000n * USDC) * 1n).toString(),
    });
    expect(verdict.refusals[0]).toMatch(/gas refund of up to 999000\.14259 USDC to 0x/);

    const before = await balanceOf(ATTACKER);
    const receipt = await signAndMine(request);
    expect(receipt.status).toBe('0x1');
    const gained = (await balanceOf(ATTACKER)) - before;
    expect(gained).toBeGreaterThanOrEqual(999_000n * USDC);
    // The refund is within the bound coldsign shows.
    expect(gained).toBeLessThanOrEqual(BigInt(refund!.raw));
    expect(await balanceOf(PAYROLL)).toBe(5n * USDC);
  });

  it("SafeTx typed data with refundReceiver 0 (= tx.origin): a relayer cashes 900 USDC of the Safe's remaining ~995; coldsign refuses the typed data", async () => {
    const fields = refundDrainFields(scene, { nonce: 1n, refundReceiver: ZeroAddress, baseGas: 900n * USDC });
    const request = safeTxTyped(scene, fields);
    const verdict = await judge(request, [ours.record], victimPolicy(scene));
    expect(verdict.decision.allowed).toBe(false);
    expect(verdict.summary.movements.find((m) => m.channel === 'safe-refund')).toMatchObject({ to: null });
    expect(verdict.refusals.join('\n')).toMatch(/gas refund .* to whoever relays the transaction/);

    // What the signature would do: our throwaway key signs the SafeTx, the relayer submits it and is paid.
    const signature = await ours.wallet.signTypedData(
      { chainId: CHAIN_ID, verifyingContract: scene.safe },
      SAFE_TX_TYPES as Record<string, TypedDataField[]>,
      { ...fields },
    );
    const before = await balanceOf(relayer.address);
    const relayed = transaction({ ...scene, ours: relayer.address }, nextNonce(relayer.address), {
      to: scene.safe,
      data: execTransactionData(fields, signature),
    });
    const receipt = await signAndMine(relayed, relayer);
    expect(receipt.status).toBe('0x1');
    expect((await balanceOf(relayer.address)) - before).toBeGreaterThanOrEqual(900n * USDC);
  });
});

describe('item 2: ETH to any address disguised as a token transfer to ourselves (on ganache)', () => {
  it('to = attacker EOA, value 5 ETH, data = transfer(ourKey, 0): the attacker receives 5 ETH; coldsign refuses', async () => {
    const request = disguisedEth(scene, nextNonce(ours.wallet.address));
    const verdict = await judge(request, [ours.record], victimPolicy(scene));
    expect(verdict.decision.allowed).toBe(false);
    expect(verdict.summary.movements[0]).toMatchObject({
      channel: 'call',
      to: ATTACKER,
      raw: (5n * 10n ** 18n).toString(),
    });
    expect(verdict.refusals.join('\n')).toMatch(
      /Contract 0x[0-9a-fA-F]+ is not in the contract allowlist of rule tok-contracts/,
    );
    expect(verdict.refusals.join('\n')).toMatch(
      /A transfer of token .* which rule tok-contracts does not list/,
    );

    const before = await ethBalance(ATTACKER);
    const receipt = await signAndMine(request);
    expect(receipt.status).toBe('0x1');
    expect((await ethBalance(ATTACKER)) - before).toBe(parseEther('5'));
  });
});
