/**
 * What a typed-data signature authorizes (pure): EIP-2612 Permit (and DAI's permit), Uniswap Permit2 and
 * Safe SafeTx. Other typed data is reported as not understood (blind).
 */
import { MaxUint256, TypedDataEncoder, getAddress, getBigInt, hexlify } from 'ethers';
import { isColdsignError } from '../../core/errors.js';
import type { DecodedCall } from '../../core/summary.js';
import { analyzeSafeTx, type CallAnalysis, type CallContext } from './decode.js';
import { isNearUnlimited, movement } from './movements.js';
import type { TypedDataDocument } from './types.js';

/** Permit2's canonical deployment (same address on every chain, by CREATE2). */
export const PERMIT2_ADDRESS = '0x000000000022D473030F116dDEE9F6B43aC78BA3';

type Msg = Record<string, unknown>;

/** Whether `type` declares each of `fields` with the type the analyser reads it as (values are validated by type). */
function hasFields(doc: TypedDataDocument, type: string, fields: Record<string, string>): boolean {
  const declared = doc.types[type] ?? [];
  return Object.entries(fields).every(([name, fieldType]) =>
    declared.some((f) => f.name === name && f.type === fieldType),
  );
}

const EIP2612_PERMIT = {
  owner: 'address',
  spender: 'address',
  value: 'uint256',
  nonce: 'uint256',
  deadline: 'uint256',
};
const DAI_PERMIT = {
  holder: 'address',
  spender: 'address',
  nonce: 'uint256',
  expiry: 'uint256',
  allowed: 'bool',
};

function base(doc: TypedDataDocument): Omit<DecodedCall, 'args' | 'contract'> {
  return { selector: '0x', name: TypedDataEncoder.from(doc.types).encodeType(doc.primaryType) };
}

function verifyingContract(doc: TypedDataDocument): string | null {
  const vc = doc.domain.verifyingContract;
  return typeof vc === 'string' ? getAddress(vc) : null;
}

/** EIP-2612 permit(owner, spender, value, nonce, deadline) and DAI's permit(holder, spender, nonce, expiry, allowed). */
function permit(doc: TypedDataDocument, ctx: CallContext): CallAnalysis | null {
  if (doc.primaryType !== 'Permit' || typeof doc.message.spender !== 'string') return null;
  const token = verifyingContract(doc);
  if (!token) return null;
  const m = doc.message;
  const spender = getAddress(m.spender as string);
  const args: Record<string, string> = { spender };
  let raw: bigint;
  let deadline: bigint | null;
  if (hasFields(doc, 'Permit', EIP2612_PERMIT)) {
    raw = getBigInt(m.value as string);
    deadline = getBigInt(m.deadline as string);
    Object.assign(args, {
      owner: getAddress(m.owner as string),
      value: raw.toString(),
      nonce: String(getBigInt(m.nonce as string)),
      deadline: String(deadline),
    });
  } else if (hasFields(doc, 'Permit', DAI_PERMIT)) {
    // DAI: allowed = true grants the maximum allowance; expiry 0 never expires. `allowed` is a JSON boolean
    // (parseTypedData), so this reads it as ethers hashes it.
    raw = m.allowed === true ? MaxUint256 : 0n;
    const expiry = getBigInt(m.expiry as string);
    deadline = expiry === 0n ? null : expiry;
    Object.assign(args, {
      holder: getAddress(m.holder as string),
      allowed: String(m.allowed),
      nonce: String(getBigInt(m.nonce as string)),
      expiry: String(expiry),
    });
  } else {
    return null;
  }
  const unlimited = isNearUnlimited(raw);
  const owner = (args.owner ?? args.holder)!;
  const warnings: string[] = [];
  // EIP-2612: the permit is valid only when signed by its owner.
  if (!ctx.ours.has(owner.toLowerCase()))
    warnings.push(`The permit's owner ${owner} is not one of our keys.`);
  warnings.push(
    unlimited
      ? `UNLIMITED permit: this signature lets ${spender} spend all of token ${token} held by the owner, without a transaction from us.`
      : `Permit: this signature lets ${spender} spend ${ctx.tokens.describe(token, raw)} without a transaction from us.`,
  );
  const grant = movement(
    {
      channel: 'approval',
      from: owner,
      to: spender,
      raw,
      token,
      deadline,
      ...(unlimited ? { unbounded: true } : {}),
    },
    ctx,
  );
  return {
    call: { ...base(doc), contract: token, args, category: 'permit', spendingApproval: true, unlimited },
    movements: [grant],
    warnings,
    blind: false,
  };
}

/**
 * Uniswap Permit2: PermitSingle/PermitBatch (allowances until `expiration`; 0 = the block that uses it, so
 * at most sigDeadline) and the Permit…TransferFrom family (one transfer, chosen by the spender, until
 * `deadline`). Each token granted is an approval movement to the spender.
 */
function permit2(doc: TypedDataDocument, ctx: CallContext): CallAnalysis | null {
  if (doc.domain.name !== 'Permit2') return null;
  const contract = verifyingContract(doc);
  if (!contract) return null;
  const m = doc.message;
  if (typeof m.spender !== 'string') return null;
  const spender = getAddress(m.spender);
  const args: Record<string, string> = {};
  const grants: Array<{ token: string; amount: bigint; deadline: bigint }> = [];
  const sigDeadline = m.sigDeadline !== undefined ? getBigInt(m.sigDeadline as string) : undefined;
  const deadline = m.deadline !== undefined ? getBigInt(m.deadline as string) : undefined;
  const collect = (items: unknown, tokenKey: 'details' | 'permitted') => {
    const list = Array.isArray(items) ? items : [items];
    list.forEach((item, i) => {
      const it = item as Msg;
      const token = getAddress(it.token as string);
      const amount = getBigInt(it.amount as string);
      const expiration = it.expiration !== undefined ? getBigInt(it.expiration as string) : undefined;
      const until = expiration !== undefined && expiration !== 0n ? expiration : (sigDeadline ?? deadline);
      if (until === undefined) throw new Error('Permit2 without a deadline');
      grants.push({ token, amount, deadline: until });
      const prefix = list.length > 1 ? `${tokenKey}[${i}].` : `${tokenKey}.`;
      args[`${prefix}token`] = token;
      args[`${prefix}amount`] = amount.toString();
      if (expiration !== undefined) args[`${prefix}expiration`] = String(expiration);
      if (it.nonce !== undefined) args[`${prefix}nonce`] = String(getBigInt(it.nonce as string));
    });
  };
  if (doc.primaryType === 'PermitSingle' || doc.primaryType === 'PermitBatch') {
    if (sigDeadline === undefined) return null;
    collect(m.details, 'details');
  } else if (/^PermitBatch(Witness)?TransferFrom$|^Permit(Witness)?TransferFrom$/.test(doc.primaryType)) {
    if (deadline === undefined) return null;
    collect(m.permitted, 'permitted');
  } else return null;
  args.spender = spender;
  for (const key of ['sigDeadline', 'deadline', 'nonce'] as const)
    if (m[key] !== undefined) args[key] = String(getBigInt(m[key] as string));
  const warnings: string[] = [];
  if (contract.toLowerCase() !== PERMIT2_ADDRESS.toLowerCase())
    warnings.push(
      `The domain is named Permit2 but its contract ${contract} is not the canonical Permit2 deployment.`,
    );
  let unlimited = false;
  const movements = grants.map(({ token, amount, deadline: until }) => {
    const near = isNearUnlimited(amount);
    unlimited ||= near;
    warnings.push(
      near
        ? `UNLIMITED Permit2 allowance: ${spender} may spend all of token ${token}.`
        : `Permit2: ${spender} may spend ${ctx.tokens.describe(token, amount)}.`,
    );
    return movement(
      {
        channel: 'approval',
        from: ctx.from,
        to: spender,
        raw: amount,
        token,
        deadline: until,
        ...(near ? { unbounded: true } : {}),
      },
      ctx,
    );
  });
  return {
    call: { ...base(doc), contract, args, category: 'permit2', spendingApproval: true, unlimited },
    movements,
    warnings,
    blind: false,
  };
}

const SAFE_TX_FIELDS = {
  to: 'address',
  value: 'uint256',
  data: 'bytes',
  operation: 'uint8',
  safeTxGas: 'uint256',
  baseGas: 'uint256',
  gasPrice: 'uint256',
  gasToken: 'address',
  refundReceiver: 'address',
  nonce: 'uint256',
};

/** Safe (1.x) SafeTx(to, value, data, operation, safeTxGas, baseGas, gasPrice, gasToken, refundReceiver, nonce). */
function safeTx(doc: TypedDataDocument, ctx: CallContext): CallAnalysis | null {
  if (doc.primaryType !== 'SafeTx' || !hasFields(doc, 'SafeTx', SAFE_TX_FIELDS)) return null;
  const safe = verifyingContract(doc);
  if (!safe) return null;
  const m = doc.message;
  const result = analyzeSafeTx(
    safe,
    {
      to: getAddress(m.to as string),
      value: getBigInt(m.value as string),
      data: hexlify(m.data as string),
      operation: getBigInt(m.operation as string),
      safeTxGas: getBigInt(m.safeTxGas as string),
      baseGas: getBigInt(m.baseGas as string),
      gasPrice: getBigInt(m.gasPrice as string),
      gasToken: getAddress(m.gasToken as string),
      refundReceiver: getAddress(m.refundReceiver as string),
    },
    ctx,
    base(doc),
    { nonce: String(getBigInt(m.nonce as string)) },
  );
  result.warnings.unshift(`This signature approves a transaction of the Safe ${safe}.`);
  return result;
}

/** Analyses validated typed data; what is not recognised is blind (every field is still shown in details). */
export function analyzeTypedData(doc: TypedDataDocument, ctx: CallContext): CallAnalysis {
  try {
    const known = permit2(doc, ctx) ?? permit(doc, ctx) ?? safeTx(doc, ctx);
    if (known) return known;
  } catch (error) {
    // A request that names itself invalidly (a Safe operation other than 0 or 1) is refused, not blind.
    if (isColdsignError(error)) throw error;
    // fields of an unexpected shape: fall through to blind
  }
  return {
    movements: [],
    warnings: [
      `Typed data ${doc.primaryType} is not a recognised kind: review every field before signing (blind).`,
    ],
    blind: true,
  };
}
