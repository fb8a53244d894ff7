/**
 * What a call will do (pure): native transfers, ERC-20 transfer/approve/transferFrom/increaseAllowance and
 * Safe execTransaction, ABI-decoded with viem. Anything else is blind, with its selector shown.
 */
import { ZeroAddress } from 'ethers';
import {
  decodeAbiParameters,
  encodeAbiParameters,
  parseAbi,
  toFunctionSelector,
  toFunctionSignature,
  type AbiFunction,
  type Hex,
} from 'viem';
import { makeError } from '../../core/errors.js';
import type { DecodedCall, Movement } from '../../core/summary.js';
import { checksumLowerHex } from './address.js';
import { isNearUnlimited, movement, type MovementContext } from './movements.js';
import { formatEther } from './units.js';

export const ERC20_ABI = parseAbi([
  'function transfer(address to, uint256 amount)',
  'function approve(address spender, uint256 amount)',
  'function transferFrom(address from, address to, uint256 amount)',
  'function increaseAllowance(address spender, uint256 addedValue)',
]);

/** Safe (Gnosis Safe) v1.x GnosisSafe.execTransaction. */
export const SAFE_ABI = parseAbi([
  'function execTransaction(address to, uint256 value, bytes data, uint8 operation, uint256 safeTxGas, uint256 baseGas, uint256 gasPrice, address gasToken, address refundReceiver, bytes signatures)',
]);

/** Safe Enum.Operation: 0 call, 1 delegatecall. */
export const SAFE_DELEGATECALL = 1n;

export interface CallContext extends MovementContext {
  chainId: number | undefined;
  /** Whose value a top-level call moves: our signing key's address. */
  from: string;
  /** tx.origin, which Safe pays when refundReceiver is 0: our key for a transaction; null (the unknown relayer) for typed data. */
  origin: string | null;
}

export interface CallAnalysis {
  call?: DecodedCall;
  movements: Movement[];
  warnings: string[];
  blind: boolean;
}

/** Byte length of 0x hex call data (every caller passes data a decoder produced: even-length, valid hex). */
function dataLength(data: string): number {
  return (data.length - 2) / 2;
}

/** The 4-byte function selector (Solidity ABI), lower-case 0x hex; shorter data is shown whole. */
function selectorOf(data: string): string {
  return data.length >= 10 ? data.slice(0, 10).toLowerCase() : data;
}

interface KnownFunction {
  selector: string;
  name: string;
  signature: string;
  fn: AbiFunction;
  /** For argument lists of `address` and `uint256` only: which words hold an address; else null. */
  staticWords: boolean[] | null;
}

/** Selector → function, computed once. */
function selectorTable(abi: readonly AbiFunction[]): Map<string, KnownFunction> {
  const table = new Map<string, KnownFunction>();
  for (const fn of abi) {
    const selector = toFunctionSelector(fn);
    const staticOnly = fn.inputs.every((input) => input.type === 'address' || input.type === 'uint256');
    const staticWords = staticOnly ? fn.inputs.map((input) => input.type === 'address') : null;
    table.set(selector, { selector, name: fn.name, signature: toFunctionSignature(fn), fn, staticWords });
  }
  return table;
}

const ERC20_FUNCTIONS = selectorTable(ERC20_ABI);
const SAFE_FUNCTIONS = selectorTable(SAFE_ABI);

/** An address word's 12 zero bytes of left padding (Solidity ABI: `address` is encoded as uint160). */
const ADDRESS_PADDING = '0'.repeat(24);
const HEX_DIGITS = /^[0-9a-f]*$/;

/**
 * Whether `body` (lower-case hex, no 0x) is the one canonical encoding of a list of `address` / `uint256`
 * arguments: the Solidity ABI encodes each as exactly one 32-byte word, in order, with nothing after them, and an
 * address word is 12 zero bytes then the 20 address bytes. Any 32-byte word is a canonical uint256. This is what
 * re-encoding the decoded arguments and comparing would check, without building them again.
 */
export function isCanonicalStaticWords(body: string, addressWords: readonly boolean[]): boolean {
  if (body.length !== addressWords.length * 64) return false;
  for (let word = 0; word < addressWords.length; word++)
    if (addressWords[word] && !body.startsWith(ADDRESS_PADDING, word * 64)) return false;
  return true;
}

/**
 * The arguments of a canonical list of static words (isCanonicalStaticWords): an `address` word's last 20 bytes
 * as an EIP-55 address, a `uint256` word as its big-endian integer — what the ABI decoder returns for them.
 */
function staticWordArgs(body: string, addressWords: readonly boolean[]): unknown[] {
  return addressWords.map((isAddress, word) =>
    isAddress
      ? checksumLowerHex(body.slice(word * 64 + 24, word * 64 + 64))
      : BigInt(`0x${body.slice(word * 64, word * 64 + 64)}`),
  );
}

/**
 * Decodes `data` only when it is exactly the canonical ABI encoding of a known function: re-encoding the decoded
 * arguments must give the same bytes (no trailing bytes, no dirty address or padding words, no odd offsets). For
 * argument lists of static words only, the same test is made on the words directly (isCanonicalStaticWords).
 */
function decodeStrict(
  table: Map<string, KnownFunction>,
  data: string,
): { name: string; signature: string; selector: string; args: readonly unknown[] } | null {
  const known = table.get(data.slice(0, 10).toLowerCase());
  if (!known) return null;
  const digits = data.slice(10).toLowerCase();
  if (known.staticWords) {
    if (!HEX_DIGITS.test(digits) || !isCanonicalStaticWords(digits, known.staticWords)) return null;
    const args = staticWordArgs(digits, known.staticWords);
    return { name: known.name, signature: known.signature, selector: known.selector, args };
  }
  const body = `0x${digits}` as Hex;
  try {
    const args = decodeAbiParameters(known.fn.inputs, body);
    if (encodeAbiParameters(known.fn.inputs, args) !== body) return null;
    return { name: known.name, signature: known.signature, selector: known.selector, args };
  } catch {
    return null;
  }
}

function blindCall(contract: string, data: string): CallAnalysis {
  const selector = selectorOf(data);
  return {
    call: { contract, selector, name: null, args: {} },
    movements: [],
    warnings: [
      `The call data for ${contract} (selector ${selector}) is not understood: this is blind signing.`,
    ],
    blind: true,
  };
}

/** ERC-20 transfer/transferFrom are token movements; approve/increaseAllowance are approvals to the spender. */
function erc20(contract: string, data: string, from: string, ctx: CallContext): CallAnalysis | null {
  const decoded = decodeStrict(ERC20_FUNCTIONS, data);
  if (!decoded) return null;
  const base = { contract, selector: decoded.selector, name: decoded.signature };
  const warnings: string[] = [];
  const a = decoded.args;
  switch (decoded.name) {
    case 'transfer': {
      const to = a[0] as string;
      const amount = a[1] as bigint;
      return {
        call: { ...base, args: { to, amount: amount.toString() }, category: 'erc20-transfer' },
        movements: [movement({ channel: 'token-transfer', from, to, raw: amount, token: contract }, ctx)],
        warnings,
        blind: false,
      };
    }
    case 'transferFrom': {
      const owner = a[0] as string;
      const to = a[1] as string;
      const amount = a[2] as bigint;
      if (!ctx.ours.has(owner.toLowerCase()))
        warnings.push(
          `transferFrom moves tokens of ${owner}, which is not one of our keys, using an allowance.`,
        );
      return {
        call: {
          ...base,
          args: { from: owner, to, amount: amount.toString() },
          category: 'erc20-transferFrom',
        },
        movements: [
          movement({ channel: 'token-transfer', from: owner, to, raw: amount, token: contract }, ctx),
        ],
        warnings,
        blind: false,
      };
    }
    case 'approve':
    case 'increaseAllowance': {
      const spender = a[0] as string;
      const amount = a[1] as bigint;
      const unlimited = isNearUnlimited(amount);
      if (unlimited)
        warnings.push(
          `UNLIMITED approval: ${spender} may spend all of token ${contract} held by this account.`,
        );
      else if (amount > 0n)
        warnings.push(`Approval: ${spender} may spend ${ctx.tokens.describe(contract, amount)}.`);
      if (decoded.name === 'increaseAllowance')
        warnings.push('increaseAllowance adds to the current allowance, which this request does not show.');
      const category = decoded.name === 'approve' ? 'erc20-approve' : 'erc20-increaseAllowance';
      const argName = decoded.name === 'approve' ? 'amount' : 'addedValue';
      return {
        call: {
          ...base,
          args: { spender, [argName]: amount.toString() },
          category,
          spendingApproval: amount > 0n,
          unlimited,
        },
        movements: [
          movement(
            {
              channel: 'approval',
              from,
              to: spender,
              raw: amount,
              token: contract,
              ...(unlimited ? { unbounded: true } : {}),
            },
            ctx,
          ),
        ],
        warnings,
        blind: false,
      };
    }
    default:
      return null;
  }
}

/** The fields of a Safe transaction (execTransaction arguments or SafeTx typed data). */
export interface SafeTxFields {
  to: string;
  value: bigint;
  data: string;
  operation: bigint;
  safeTxGas: bigint;
  baseGas: bigint;
  gasPrice: bigint;
  gasToken: string;
  refundReceiver: string;
}

/**
 * Gas Safe (1.x execTransaction) counts in `gasUsed` beyond what the inner call itself may burn (at most
 * safeTxGas when gasPrice > 0): the CALL's own charges — cold account access 2,600 (EIP-2929), value transfer
 * 9,000, new account 25,000, a delegated (EIP-7702) target's code 2,600 — and Solidity's bookkeeping between its
 * two gasleft() reads (about 400 measured on Safe 1.3.0), rounded up to 40,000.
 */
export const SAFE_REFUND_CALL_OVERHEAD_GAS = 40_000n;
/**
 * Per 32-byte word of the inner call data (plus 2 for its length word and alignment): Safe copies `data` into
 * memory between the gasleft() reads — 3 to copy, 3 + 2·M/512 to expand memory that ends below M words. With
 * M = 2^17 (4 MiB, whose expansion alone costs over 33 million gas) that is 3 + 3 + 512.
 */
export const SAFE_REFUND_GAS_PER_DATA_WORD = 518n;

/** The most gas Safe counts as used by a call of `safeTxGas` with `data` (0x hex). */
export function safeRefundGasBound(safeTxGas: bigint, data: string): bigint {
  const words = BigInt(Math.ceil(dataLength(data) / 32) + 2);
  return safeTxGas + SAFE_REFUND_CALL_OVERHEAD_GAS + words * SAFE_REFUND_GAS_PER_DATA_WORD;
}

/**
 * Safe (GnosisSafe 1.x) handleRefund: when gasPrice > 0 the Safe pays (gasUsed + baseGas) × gasPrice in
 * gasToken (0 = ETH, where the price is at most tx.gasprice) to refundReceiver (0 = tx.origin). gasUsed is
 * measured around the inner call, which is given safeTxGas, so it is at most safeRefundGasBound. safeTxGas 0
 * is Safe's "no limit" (with gasPrice 0 the call gets all the gas): coldsign does not rely on the call getting
 * none when gasPrice > 0, and such a refund is unbounded.
 */
function safeRefund(safe: string, fields: SafeTxFields, ctx: CallContext): Movement | null {
  if (fields.gasPrice === 0n) return null;
  const receiver = fields.refundReceiver === ZeroAddress ? ctx.origin : fields.refundReceiver;
  const unbounded = fields.safeTxGas === 0n;
  const gas = unbounded ? 0n : safeRefundGasBound(fields.safeTxGas, fields.data);
  return movement(
    {
      channel: 'safe-refund',
      from: safe,
      to: receiver,
      // unbounded: the part that is certain, baseGas × gasPrice
      raw: (gas + fields.baseGas) * fields.gasPrice,
      ...(fields.gasToken === ZeroAddress ? {} : { token: fields.gasToken }),
      ...(unbounded ? { unbounded: true } : {}),
    },
    ctx,
  );
}

/** A Safe transaction, its inner call analysed one level deep, its gas refund a movement of its own. */
export function analyzeSafeTx(
  safe: string,
  fields: SafeTxFields,
  ctx: CallContext,
  base: Omit<DecodedCall, 'args' | 'contract'>,
  extraArgs: Record<string, string>,
): CallAnalysis {
  // Safe Enum.Operation has two members, Call (0) and DelegateCall (1); anything else is not a Safe transaction.
  if (fields.operation !== 0n && fields.operation !== SAFE_DELEGATECALL)
    throw makeError(
      'EVM_SAFE_INVALID',
      `Safe operation ${fields.operation} is neither call (0) nor delegatecall (1).`,
    );
  const warnings: string[] = [];
  const delegatecall = fields.operation === SAFE_DELEGATECALL;
  let inner: CallAnalysis;
  if (delegatecall) {
    warnings.push(
      `DANGER: Safe operation = 1 (DELEGATECALL): ${fields.to} runs with the Safe's own storage and can take every asset and change its owners.`,
    );
    const blind = blindCall(fields.to, fields.data);
    const selector = fields.data === '0x' ? {} : { selector: selectorOf(fields.data) };
    blind.movements.push(
      movement(
        { channel: 'safe-call', from: safe, to: fields.to, raw: fields.value, unbounded: true, ...selector },
        ctx,
      ),
    );
    inner = blind;
  } else {
    inner = analyzeCall(fields.to, fields.data, fields.value, ctx, 1, safe);
  }
  const refund = safeRefund(safe, fields, ctx);
  if (refund) {
    const receiver = refund.to ?? 'whoever relays the transaction (tx.origin)';
    const asset =
      refund.asset.type === 'native' ? 'ETH' : (refund.asset.symbol ?? `token ${refund.asset.contract}`);
    warnings.push(
      refund.unbounded
        ? `Safe gas refund with safeTxGas 0, which sets no gas limit: the Safe pays ${receiver} an unlimited amount of ${asset} ((gas used + baseGas) × gasPrice ${fields.gasPrice}).`
        : `Safe gas refund: the Safe pays up to ${refund.amount !== null ? `${refund.amount} ${asset}` : `${refund.raw} raw units of ${asset}`} to ${receiver}.`,
    );
  }
  const args: Record<string, string> = {
    to: fields.to,
    value: fields.value.toString(),
    data: fields.data,
    operation: fields.operation.toString(),
    safeTxGas: fields.safeTxGas.toString(),
    baseGas: fields.baseGas.toString(),
    gasPrice: fields.gasPrice.toString(),
    gasToken: fields.gasToken,
    refundReceiver: fields.refundReceiver,
    ...extraArgs,
  };
  if (inner.call) {
    args['inner.selector'] = inner.call.selector;
    if (inner.call.name) args['inner.function'] = inner.call.name;
    for (const [k, v] of Object.entries(inner.call.args)) args[`inner.${k}`] = v;
  }
  return {
    call: {
      ...base,
      contract: safe,
      args,
      category: 'safe-exec',
      delegatecall,
      spendingApproval: inner.call?.spendingApproval,
      unlimited: inner.call?.unlimited,
    },
    movements: refund ? [...inner.movements, refund] : inner.movements,
    warnings: [...warnings, ...inner.warnings.map((w) => `Inside the Safe transaction: ${w}`)],
    blind: inner.blind || delegatecall,
  };
}

function safeExec(contract: string, data: string, ctx: CallContext): CallAnalysis | null {
  const decoded = decodeStrict(SAFE_FUNCTIONS, data);
  if (!decoded) return null;
  const a = decoded.args;
  return analyzeSafeTx(
    contract,
    {
      to: a[0] as string,
      value: a[1] as bigint,
      data: a[2] as string,
      operation: BigInt(a[3] as number),
      safeTxGas: a[4] as bigint,
      baseGas: a[5] as bigint,
      gasPrice: a[6] as bigint,
      gasToken: a[7] as string,
      refundReceiver: a[8] as string,
    },
    ctx,
    { selector: decoded.selector, name: decoded.signature },
    { signatures: a[9] as string },
  );
}

/**
 * Analyses a call to `to` with `data` and native `value`, sent by `from` (depth 0: the transaction, from our
 * key; 1: a Safe's inner call, from the Safe). The value always goes to `to`: a `native` movement for a plain
 * transfer, a `call` (`safe-call` inside a Safe) movement carrying the value when code is called.
 */
export function analyzeCall(
  to: string | null,
  data: string,
  value: bigint,
  ctx: CallContext,
  depth = 0,
  from: string = ctx.from,
): CallAnalysis {
  const hasData = data !== '0x';
  const channel = depth > 0 ? 'safe-call' : hasData || to === null ? 'call' : 'native';
  const selector = hasData && to !== null ? { selector: selectorOf(data) } : {};
  const movements: Movement[] = [movement({ channel, from, to, raw: value, ...selector }, ctx)];
  if (to === null) {
    return {
      call: {
        contract: '',
        selector: '0x',
        name: null,
        args: { initCodeBytes: String(dataLength(data)) },
        category: 'contract-creation',
      },
      movements,
      warnings: ['This transaction deploys a new contract; its code is not reviewed.'],
      blind: true,
    };
  }
  if (!hasData) return { movements, warnings: [], blind: false };
  const decoded = erc20(to, data, from, ctx) ?? (depth === 0 ? safeExec(to, data, ctx) : null);
  const result = decoded ?? blindCall(to, data);
  if (value > 0n && decoded)
    result.warnings.push(`The call also sends ${formatEther(value)} ETH to the contract ${to}.`);
  // the value's movement first, then what the call itself moves
  result.movements.unshift(...movements);
  return result;
}
