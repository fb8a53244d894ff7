/**
 * What a call will do (pure): native transfers, ERC-20 transfer/approve/transferFrom/increaseAllowance and
 * Safe execTransaction, decoded with ethers' Interface. Anything else is blind, with its selector shown.
 */
import {
  AbiCoder,
  Interface,
  MaxUint256,
  dataLength,
  dataSlice,
  formatEther,
  type FunctionFragment,
  type Result,
} from 'ethers';
import type { DecodedCall, Movement } from '../../core/summary.js';
import type { TokenBook } from './tokens.js';

export const ERC20_INTERFACE = new Interface([
  'function transfer(address to, uint256 amount)',
  'function approve(address spender, uint256 amount)',
  'function transferFrom(address from, address to, uint256 amount)',
  'function increaseAllowance(address spender, uint256 addedValue)',
]);

/** Safe (Gnosis Safe) v1.x GnosisSafe.execTransaction. */
export const SAFE_INTERFACE = new Interface([
  'function execTransaction(address to, uint256 value, bytes data, uint8 operation, uint256 safeTxGas, uint256 baseGas, uint256 gasPrice, address gasToken, address refundReceiver, bytes signatures)',
]);

/** Safe Enum.Operation: 0 call, 1 delegatecall. */
export const SAFE_DELEGATECALL = 1n;

export interface CallContext {
  chainId: number | undefined;
  tokens: TokenBook;
  /** Lower-case addresses of our keys (change detection). */
  ours: Set<string>;
}

export interface CallAnalysis {
  call?: DecodedCall;
  movements: Movement[];
  warnings: string[];
  blind: boolean;
}

export function nativeMovement(to: string | null, value: bigint, ctx: CallContext): Movement {
  return {
    to,
    raw: value.toString(),
    amount: formatEther(value),
    asset: { type: 'native', symbol: 'ETH' },
    change: to !== null && ctx.ours.has(to.toLowerCase()),
  };
}

function tokenMovement(contract: string, to: string, raw: bigint, ctx: CallContext): Movement {
  return {
    to,
    raw: raw.toString(),
    amount: ctx.tokens.amount(contract, raw),
    asset: ctx.tokens.asset(contract),
    change: ctx.ours.has(to.toLowerCase()),
  };
}

interface KnownFunction {
  /** Number of 32-byte words when every argument is a static scalar, else null. */
  staticWords: number | null;
  selector: string;
  name: string;
  signature: string;
  fragment: FunctionFragment;
}

/** ABI decoding (ethers AbiCoder) returns addresses EIP-55 checksummed. */
/** Selector → function, computed once (ethers recomputes a fragment's selector hash on every lookup). */
function selectorTable(iface: Interface): Map<string, KnownFunction> {
  const table = new Map<string, KnownFunction>();
  iface.forEachFunction((fragment) => {
    const scalar = fragment.inputs.every((input) =>
      /^(address|bool|u?int\d*|bytes([1-9]|[12]\d|3[0-2]))$/.test(input.type),
    );
    table.set(fragment.selector, {
      staticWords: scalar ? fragment.inputs.length : null,
      selector: fragment.selector,
      name: fragment.name,
      signature: fragment.format('sighash'),
      fragment,
    });
  });
  return table;
}

const ERC20_FUNCTIONS = selectorTable(ERC20_INTERFACE);
const SAFE_FUNCTIONS = selectorTable(SAFE_INTERFACE);
const abi = AbiCoder.defaultAbiCoder();

/** Decodes `data` only when it is exactly the canonical ABI encoding of a known function (no trailing or dirty bytes). */
function decodeStrict(
  table: Map<string, KnownFunction>,
  data: string,
): { name: string; signature: string; selector: string; args: Result } | null {
  const known = table.get(data.slice(0, 10).toLowerCase());
  if (!known) return null;
  const body = `0x${data.slice(10)}`;
  try {
    const args = abi.decode(known.fragment.inputs, body);
    // ethers defers decoding errors (e.g. dirty address words) until a value is read: read them all here.
    for (let i = 0; i < args.length; i++) void args[i];
    // Static arguments (ERC-20): canonical iff exactly one 32-byte word each (ethers refuses dirty address words).
    // Dynamic arguments (Safe): canonical iff re-encoding gives the same bytes.
    const canonical =
      known.staticWords !== null
        ? body.length === 2 + known.staticWords * 64
        : abi.encode(known.fragment.inputs, args).toLowerCase() === body.toLowerCase();
    if (!canonical) return null;
    return { name: known.name, signature: known.signature, selector: known.selector, args };
  } catch {
    return null;
  }
}

function blindCall(contract: string, data: string): CallAnalysis {
  const selector = dataLength(data) >= 4 ? dataSlice(data, 0, 4) : data;
  return {
    call: { contract, selector, name: null, args: {} },
    movements: [],
    warnings: [
      `The call data for ${contract} (selector ${selector}) is not understood: this is blind signing.`,
    ],
    blind: true,
  };
}

function erc20(contract: string, data: string, ctx: CallContext): CallAnalysis | null {
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
        movements: [tokenMovement(contract, to, amount, ctx)],
        warnings,
        blind: false,
      };
    }
    case 'transferFrom': {
      const from = a[0] as string;
      const to = a[1] as string;
      const amount = a[2] as bigint;
      if (!ctx.ours.has(from.toLowerCase()))
        warnings.push(
          `transferFrom moves tokens of ${from}, which is not one of our keys, using an allowance.`,
        );
      return {
        call: { ...base, args: { from, to, amount: amount.toString() }, category: 'erc20-transferFrom' },
        movements: [tokenMovement(contract, to, amount, ctx)],
        warnings,
        blind: false,
      };
    }
    case 'approve':
    case 'increaseAllowance': {
      const spender = a[0] as string;
      const amount = a[1] as bigint;
      const unlimited = amount === MaxUint256;
      if (unlimited)
        warnings.push(
          `UNLIMITED approval: ${spender} may spend all of token ${contract} held by this account.`,
        );
      else if (amount > 0n)
        warnings.push(`Approval: ${spender} may spend ${ctx.tokens.describe(contract, amount)}.`);
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
        movements: [],
        warnings,
        blind: false,
      };
    }
    default:
      return null;
  }
}

/** A Safe transaction (execTransaction arguments or SafeTx typed data), its inner call analysed one level deep. */
export function analyzeSafeTx(
  safe: string,
  fields: { to: string; value: bigint; data: string; operation: bigint; [k: string]: unknown },
  ctx: CallContext,
  base: Omit<DecodedCall, 'args' | 'contract'>,
  extraArgs: Record<string, string>,
): CallAnalysis {
  const warnings: string[] = [];
  const delegatecall = fields.operation === SAFE_DELEGATECALL;
  if (delegatecall) {
    warnings.push(
      `DANGER: Safe operation = 1 (DELEGATECALL): ${fields.to} runs with the Safe's own storage and can take every asset and change its owners.`,
    );
  } else if (fields.operation !== 0n) {
    warnings.push(`Safe operation ${fields.operation} is neither call (0) nor delegatecall (1).`);
  }
  const inner = delegatecall
    ? blindCall(fields.to, fields.data)
    : analyzeCall(fields.to, fields.data, fields.value, ctx, 1);
  const args: Record<string, string> = {
    to: fields.to,
    value: fields.value.toString(),
    data: fields.data,
    operation: fields.operation.toString(),
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
    movements: inner.movements,
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
    { to: a[0] as string, value: a[1] as bigint, data: a[2] as string, operation: a[3] as bigint },
    ctx,
    { selector: decoded.selector, name: decoded.signature },
    {
      safeTxGas: (a[4] as bigint).toString(),
      baseGas: (a[5] as bigint).toString(),
      gasPrice: (a[6] as bigint).toString(),
      gasToken: a[7] as string,
      refundReceiver: a[8] as string,
      signatures: a[9] as string,
    },
  );
}

/** Analyses a call to `to` with `data` and native `value` (depth 0: the transaction; 1: inside a Safe). */
export function analyzeCall(
  to: string | null,
  data: string,
  value: bigint,
  ctx: CallContext,
  depth = 0,
): CallAnalysis {
  const movements: Movement[] = [];
  if (value > 0n || (to !== null && data === '0x')) movements.push(nativeMovement(to, value, ctx));
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
  if (data === '0x') return { movements, warnings: [], blind: false };
  const decoded = erc20(to, data, ctx) ?? (depth === 0 ? safeExec(to, data, ctx) : null);
  const result = decoded ?? blindCall(to, data);
  if (value > 0n && decoded)
    result.warnings.push(`The call also sends ${formatEther(value)} ETH to the contract ${to}.`);
  return { ...result, movements: [...movements, ...result.movements] };
}
