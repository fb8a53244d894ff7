/**
 * What a typed-data signature authorizes (pure): EIP-2612 Permit (and DAI's permit), Uniswap Permit2 and
 * Safe SafeTx. Other typed data is reported as not understood (blind).
 */
import { MaxUint256, TypedDataEncoder, getAddress, getBigInt, hexlify } from 'ethers';
import type { DecodedCall } from '../../core/summary.js';
import { analyzeSafeTx, type CallAnalysis, type CallContext } from './decode.js';
import type { TypedDataDocument } from './types.js';

/** Permit2's canonical deployment (same address on every chain, by CREATE2). */
export const PERMIT2_ADDRESS = '0x000000000022D473030F116dDEE9F6B43aC78BA3';
const MAX_UINT160 = (1n << 160n) - 1n;

type Msg = Record<string, unknown>;

function hasFields(doc: TypedDataDocument, type: string, fields: string[]): boolean {
  const declared = doc.types[type]?.map((f) => f.name) ?? [];
  return fields.every((f) => declared.includes(f));
}

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
  if (hasFields(doc, 'Permit', ['owner', 'spender', 'value', 'nonce', 'deadline'])) {
    raw = getBigInt(m.value as string);
    Object.assign(args, {
      owner: getAddress(m.owner as string),
      value: raw.toString(),
      nonce: String(getBigInt(m.nonce as string)),
      deadline: String(getBigInt(m.deadline as string)),
    });
  } else if (hasFields(doc, 'Permit', ['holder', 'spender', 'nonce', 'expiry', 'allowed'])) {
    raw = m.allowed === true ? MaxUint256 : 0n;
    Object.assign(args, {
      holder: getAddress(m.holder as string),
      allowed: String(m.allowed),
      nonce: String(getBigInt(m.nonce as string)),
      expiry: String(getBigInt(m.expiry as string)),
    });
  } else {
    return null;
  }
  const unlimited = raw === MaxUint256;
  const owner = args.owner ?? args.holder;
  const warnings: string[] = [];
  // EIP-2612: the permit is valid only when signed by its owner.
  if (owner !== undefined && !ctx.ours.has(owner.toLowerCase()))
    warnings.push(`The permit's owner ${owner} is not one of our keys.`);
  warnings.push(
    unlimited
      ? `UNLIMITED permit: this signature lets ${spender} spend all of token ${token} held by the owner, without a transaction from us.`
      : `Permit: this signature lets ${spender} spend ${ctx.tokens.describe(token, raw)} without a transaction from us.`,
  );
  return {
    call: { ...base(doc), contract: token, args, category: 'permit', spendingApproval: true, unlimited },
    movements: [],
    warnings,
    blind: false,
  };
}

/** Uniswap Permit2: PermitSingle/PermitBatch (allowances) and the PermitTransferFrom family (one-time transfers). */
function permit2(doc: TypedDataDocument, ctx: CallContext): CallAnalysis | null {
  if (doc.domain.name !== 'Permit2') return null;
  const contract = verifyingContract(doc);
  if (!contract) return null;
  const m = doc.message;
  const args: Record<string, string> = {};
  const grants: Array<{ token: string; amount: bigint }> = [];
  const collect = (items: unknown, tokenKey: 'details' | 'permitted') => {
    const list = Array.isArray(items) ? items : [items];
    list.forEach((item, i) => {
      const it = item as Msg;
      const token = getAddress(it.token as string);
      const amount = getBigInt(it.amount as string);
      grants.push({ token, amount });
      const prefix = list.length > 1 ? `${tokenKey}[${i}].` : `${tokenKey}.`;
      args[`${prefix}token`] = token;
      args[`${prefix}amount`] = amount.toString();
      if (it.expiration !== undefined)
        args[`${prefix}expiration`] = String(getBigInt(it.expiration as string));
      if (it.nonce !== undefined) args[`${prefix}nonce`] = String(getBigInt(it.nonce as string));
    });
  };
  if (doc.primaryType === 'PermitSingle' || doc.primaryType === 'PermitBatch') collect(m.details, 'details');
  else if (/^PermitBatch(Witness)?TransferFrom$|^Permit(Witness)?TransferFrom$/.test(doc.primaryType))
    collect(m.permitted, 'permitted');
  else return null;
  if (typeof m.spender !== 'string') return null;
  const spender = getAddress(m.spender);
  args.spender = spender;
  for (const key of ['sigDeadline', 'deadline', 'nonce'] as const)
    if (m[key] !== undefined) args[key] = String(getBigInt(m[key] as string));
  const warnings: string[] = [];
  if (contract.toLowerCase() !== PERMIT2_ADDRESS.toLowerCase())
    warnings.push(
      `The domain is named Permit2 but its contract ${contract} is not the canonical Permit2 deployment.`,
    );
  let unlimited = false;
  for (const { token, amount } of grants) {
    if (amount === MAX_UINT160 || amount === MaxUint256) {
      unlimited = true;
      warnings.push(`UNLIMITED Permit2 allowance: ${spender} may spend all of token ${token}.`);
    } else {
      warnings.push(`Permit2: ${spender} may spend ${ctx.tokens.describe(token, amount)}.`);
    }
  }
  return {
    call: { ...base(doc), contract, args, category: 'permit2', spendingApproval: true, unlimited },
    movements: [],
    warnings,
    blind: false,
  };
}

/** Safe SafeTx(to, value, data, operation, safeTxGas, baseGas, gasPrice, gasToken, refundReceiver, nonce). */
function safeTx(doc: TypedDataDocument, ctx: CallContext): CallAnalysis | null {
  if (doc.primaryType !== 'SafeTx' || !hasFields(doc, 'SafeTx', ['to', 'value', 'data', 'operation']))
    return null;
  const safe = verifyingContract(doc);
  if (!safe) return null;
  const m = doc.message;
  const extra: Record<string, string> = {};
  for (const key of ['safeTxGas', 'baseGas', 'gasPrice', 'nonce'])
    if (m[key] !== undefined) extra[key] = String(getBigInt(m[key] as string));
  for (const key of ['gasToken', 'refundReceiver'])
    if (typeof m[key] === 'string') extra[key] = getAddress(m[key]);
  const result = analyzeSafeTx(
    safe,
    {
      to: getAddress(m.to as string),
      value: getBigInt(m.value as string),
      data: hexlify(m.data as string),
      operation: getBigInt(m.operation as string),
    },
    ctx,
    base(doc),
    extra,
  );
  result.warnings.unshift(`This signature approves a transaction of the Safe ${safe}.`);
  return result;
}

/** Analyses validated typed data; what is not recognised is blind (every field is still shown in details). */
export function analyzeTypedData(doc: TypedDataDocument, ctx: CallContext): CallAnalysis {
  try {
    const known = permit2(doc, ctx) ?? permit(doc, ctx) ?? safeTx(doc, ctx);
    if (known) return known;
  } catch {
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
