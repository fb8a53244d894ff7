/**
 * An in-process ganache chain (id 1337) with a real ERC-20 ("USDC", 6 decimals) and the published Safe 1.3.0
 * bytecode behind a GnosisSafeProxy, owned (threshold 1) by a throwaway in-memory key: where the Safe attacks
 * are replayed. Transactions are signed with ethers, never through coldsign's signing path.
 */
import { createRequire } from 'node:module';
import ganache from 'ganache';
import { AbiCoder, Transaction, Wallet, concat, getAddress, parseEther } from 'ethers';
import { ERC20, SAFE, ZeroAddress, type Scene } from './attacks.js';
import { throwawayKey } from './judge.js';
import { erc20CreationCode } from '../../evm/erc20-bytecode.js';

export const CHAIN_ID = 1337;
export const USDC = 10n ** 6n;
const require = createRequire(import.meta.url);
const artifact = (path: string) =>
  (require(`@gnosis.pm/safe-contracts/build/artifacts/contracts/${path}`) as { bytecode: string }).bytecode;
/** Runtime code 0xfe (INVALID): a call to it burns all the gas it is given. */
const GAS_BURNER_CREATION = '0x60fe60005360016000f3';

type Receipt = { status: string; contractAddress: string | null; gasUsed: string };

export interface SafeChain {
  scene: Scene;
  owner: ReturnType<typeof throwawayKey>;
  relayer: Wallet;
  /** A contract whose code burns all the gas a call gives it. */
  burner: string;
  /** Signs a transaction with ethers and mines it. */
  send(
    wallet: Wallet,
    fields: { to?: string; data?: string; value?: bigint; gasLimit?: number },
  ): Promise<Receipt>;
  usdcBalance(holder: string): Promise<bigint>;
  stop(): Promise<void>;
}

export async function startSafeChain(): Promise<SafeChain> {
  const node = ganache.provider({
    chain: { chainId: CHAIN_ID, hardfork: 'shanghai' },
    wallet: { totalAccounts: 0 },
    miner: { blockGasLimit: 60_000_000 },
    logging: { quiet: true },
  });
  const rpc = <T>(method: string, params: unknown[] = []): Promise<T> =>
    node.request({ method, params } as never) as Promise<T>;
  const owner = throwawayKey('eth-1');
  const relayer = new Wallet(Wallet.createRandom().privateKey);
  const scene: Scene = { chainId: CHAIN_ID, ours: owner.wallet.address, token: '', safe: '' };
  const nonces = new Map<string, number>();
  const send: SafeChain['send'] = async (wallet, fields) => {
    const nonce = nonces.get(wallet.address) ?? 0;
    const tx = Transaction.from({
      type: 2,
      chainId: CHAIN_ID,
      nonce,
      to: fields.to ?? null,
      data: fields.data ?? '0x',
      value: fields.value ?? 0n,
      gasLimit: BigInt(fields.gasLimit ?? 6_000_000),
      maxFeePerGas: 30_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
    });
    tx.signature = wallet.signingKey.sign(tx.unsignedHash);
    const hash = await rpc<string>('eth_sendRawTransaction', [tx.serialized]);
    nonces.set(wallet.address, nonce + 1);
    return rpc<Receipt>('eth_getTransactionReceipt', [hash]);
  };
  const deploy = async (data: string) => {
    const receipt = await send(owner.wallet, { data });
    if (receipt.status !== '0x1') throw new Error('deployment failed');
    return getAddress(receipt.contractAddress!);
  };
  for (const who of [owner.wallet.address, relayer.address])
    await rpc('evm_setAccountBalance', [who, `0x${parseEther('100').toString(16)}`]);
  scene.token = await deploy(erc20CreationCode(2_000_000n * USDC));
  const singleton = await deploy(artifact('GnosisSafe.sol/GnosisSafe.json'));
  scene.safe = await deploy(
    concat([
      artifact('proxies/GnosisSafeProxy.sol/GnosisSafeProxy.json'),
      AbiCoder.defaultAbiCoder().encode(['address'], [singleton]),
    ]),
  );
  const setup = SAFE.encodeFunctionData('setup', [
    [owner.wallet.address],
    1,
    ZeroAddress,
    '0x',
    ZeroAddress,
    ZeroAddress,
    0,
    ZeroAddress,
  ]);
  await send(owner.wallet, { to: scene.safe, data: setup });
  await send(owner.wallet, {
    to: scene.token,
    data: ERC20.encodeFunctionData('transfer', [scene.safe, 1_000_000n * USDC]),
  });
  await rpc('evm_setAccountBalance', [scene.safe, `0x${parseEther('10').toString(16)}`]);
  const burner = await deploy(GAS_BURNER_CREATION);
  const usdcBalance = async (holder: string) =>
    BigInt(
      await rpc<string>('eth_call', [
        { to: scene.token, data: ERC20.encodeFunctionData('balanceOf', [holder]) },
        'latest',
      ]),
    );
  return { scene, owner, relayer, burner, send, usdcBalance, stop: () => node.disconnect() };
}
