/**
 * EVM requests → SigningSummary and EvmSigningPlan (pure). The details object is the --json "summary"
 * of SPEC.md for EVM (documented in docs/evm-requests.md).
 */
import { hexlify } from 'ethers';
import { makeError } from '../../core/errors.js';
import { fromHex, toHex as nativeHex } from '../../core/bytes.js';
import type { KeyRecord } from '../../core/signer.js';
import type { Movement, SigningSummary } from '../../core/summary.js';
import { evmKeyPoint, sameAddress } from './address.js';
import { keccak256Bytes } from './keccak.js';
import { analyzeCall, type CallAnalysis, type CallContext } from './decode.js';
import { personalMessageDigest, printableText } from './message.js';
import { movement } from './movements.js';
import { TokenBook } from './tokens.js';
import { formatEther } from './units.js';
import { authorizationsOf } from './tx.js';
import { displayDomain, domainSeparator, typedDataDigest, typedDataPayload } from './typed-data.js';
import { analyzeTypedData } from './typed-decode.js';
import type {
  EvmSigningPlan,
  KnownToken,
  ParsedEvmMessage,
  ParsedEvmRequest,
  ParsedEvmTransaction,
  ParsedEvmTypedData,
} from './types.js';

interface OurKey {
  record: KeyRecord;
  address: string;
}

/** Our EVM keys with their addresses derived from the public key (the registry's address is not trusted). */
function ourKeys(keys: KeyRecord[]): OurKey[] {
  const ours: OurKey[] = [];
  for (const record of keys) {
    if (record.chain !== 'evm') continue;
    const { address } = evmKeyPoint(record.publicKey, `The registered public key of ${record.label}`);
    ours.push({ record, address });
  }
  return ours;
}

/** The key that signs: the request's `from` must be ours; with no `from`, the only EVM key. */
function resolveKey(parsed: ParsedEvmRequest, keys: OurKey[]): OurKey {
  if (keys.length === 0) throw makeError('KEY_NOT_FOUND', 'There is no EVM key on this appliance.');
  if (parsed.from !== undefined) {
    const key = keys.find((k) => sameAddress(k.address, parsed.from!));
    if (!key)
      throw makeError(
        'EVM_FROM_MISMATCH',
        `The request is from ${parsed.from}, which is not one of our EVM keys.`,
        { from: parsed.from },
      );
    return key;
  }
  if (keys.length > 1) {
    throw makeError(
      'EVM_FROM_REQUIRED',
      'The request does not name its "from" address and several EVM keys exist; name one.',
    );
  }
  return keys[0]!;
}

/** Digests already computed, per parsed request (summarize and sign both need it), as bytes and 0x hex. */
const digests = new WeakMap<ParsedEvmRequest, { bytes: Uint8Array; hex: string }>();

function cachedDigest(parsed: ParsedEvmRequest): { bytes: Uint8Array; hex: string } {
  let digest = digests.get(parsed);
  if (digest === undefined) {
    const bytes = computeDigest(parsed);
    digest = { bytes, hex: `0x${nativeHex(bytes)}` };
    digests.set(parsed, digest);
  }
  return digest;
}

/** The 32-byte digest signed for a request (keccak of the unsigned tx, EIP-191 or EIP-712), 0x hex. */
export function evmDigest(parsed: ParsedEvmRequest): string {
  return cachedDigest(parsed).hex;
}

/** evmDigest as bytes (a copy: the caller may hand it on). */
export function evmDigestBytes(parsed: ParsedEvmRequest): Uint8Array {
  return cachedDigest(parsed).bytes.slice();
}

function computeDigest(parsed: ParsedEvmRequest): Uint8Array {
  switch (parsed.kind) {
    // EIP-155 / EIP-2718: keccak256 of the unsigned serialization.
    case 'transaction':
      return keccak256Bytes(parsed.canonical);
    case 'message':
      return fromHex(personalMessageDigest(parsed.message));
    case 'typed_data':
      return fromHex(typedDataDigest(parsed.typedData));
  }
}

function summarizeTransaction(
  parsed: ParsedEvmTransaction,
  from: string,
  ctx: CallContext,
  warnings: string[],
  digest: string,
): Omit<SigningSummary, 'signingKeys'> {
  const tx = parsed.fields;
  const feeCap = parsed.txType === 2 || parsed.txType === 4 ? tx.maxFeePerGas! : tx.gasPrice!;
  const maxFee = tx.gasLimit * feeCap;
  const maxFeeEth = formatEther(maxFee);
  const analysis: CallAnalysis = analyzeCall(tx.to, tx.data, tx.value, ctx);
  const authorizations = parsed.txType === 4 ? authorizationsOf(tx) : undefined;
  const delegations: Movement[] = [];
  for (const auth of authorizations ?? []) {
    if (auth.authority === null)
      warnings.push(
        `An EIP-7702 authorization to ${auth.address} has a signature that does not recover; the node will skip it.`,
      );
    else if (sameAddress(auth.authority, from) || ctx.ours.has(auth.authority.toLowerCase())) {
      warnings.push(
        `DANGER: EIP-7702 authorization makes our account ${auth.authority} run the code of ${auth.address}.`,
      );
    } else
      warnings.push(
        `EIP-7702 authorization: account ${auth.authority} delegates its code to ${auth.address}.`,
      );
    if (auth.chainId === '0')
      warnings.push(
        `The EIP-7702 authorization to ${auth.address} has chainId 0: it is valid on every chain.`,
      );
    // EIP-7702: the authority's account runs the delegate's code from now on — everything it holds moves with it.
    delegations.push(
      movement(
        {
          channel: 'delegation',
          from: auth.authority,
          to: auth.address,
          raw: 0n,
          unbounded: true,
          chainId: auth.chainId,
        },
        ctx,
      ),
    );
  }
  const details: Record<string, unknown> = {
    kind: 'transaction',
    txType: parsed.txType,
    chainId: parsed.chainId,
    from,
    to: tx.to,
    value: tx.value.toString(),
    valueEth: formatEther(tx.value),
    nonce: tx.nonce,
    gasLimit: tx.gasLimit.toString(),
    ...(parsed.txType === 2 || parsed.txType === 4
      ? {
          maxFeePerGas: tx.maxFeePerGas!.toString(),
          maxPriorityFeePerGas: tx.maxPriorityFeePerGas!.toString(),
        }
      : { gasPrice: tx.gasPrice!.toString() }),
    maxFee: maxFee.toString(),
    maxFeeEth,
    data: tx.data,
    call: analysis.call ?? null,
    blind: analysis.blind,
    ...(parsed.txType === 1 || parsed.txType === 2 || parsed.txType === 4
      ? { accessList: tx.accessList ?? [] }
      : {}),
    ...(authorizations ? { authorizations } : {}),
    signingHash: digest,
  };
  return {
    chain: 'evm',
    kind: 'transaction',
    chainId: parsed.chainId,
    movements: [...analysis.movements, ...delegations],
    fee: { raw: details.maxFee as string, amount: maxFeeEth },
    ...(analysis.call ? { call: analysis.call } : {}),
    blind: analysis.blind,
    warnings: [...analysis.warnings, ...warnings],
    details,
  };
}

/**
 * An EIP-191 message is blind when it is not printable text, or is exactly 32 bytes (printable or not: a hash can
 * be ground until its bytes are printable). A Safe (eth_sign signature type, v + 4) or an ERC-4337 account takes
 * a signature of keccak("\x19Ethereum Signed Message:\n32" ‖ hash) as approving whatever `hash` stands for.
 */
function summarizeMessage(parsed: ParsedEvmMessage, from: string): Omit<SigningSummary, 'signingKeys'> {
  const text = printableText(parsed.message);
  const hex = hexlify(parsed.message);
  const warnings: string[] = [];
  if (text === null) warnings.push('The message is not printable text: only its hex form can be reviewed.');
  const hashSized = parsed.message.length === 32;
  if (hashSized)
    warnings.push('The message is exactly 32 bytes: it may be a hash standing for something else.');
  const blind = text === null || hashSized;
  return {
    chain: 'evm',
    kind: 'message',
    movements: [],
    fee: null,
    blind,
    message: { text, hex },
    warnings,
    details: {
      kind: 'message',
      from,
      messageText: text,
      messageHex: hex,
      blind,
      signingHash: personalMessageDigest(parsed.message),
    },
  };
}

function chainIdOf(domain: Record<string, unknown>): number | undefined {
  const raw = domain.chainId;
  if (raw === undefined || raw === null) return undefined;
  const value = BigInt(raw as string | number);
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
}

function summarizeTypedData(
  parsed: ParsedEvmTypedData,
  from: string,
  ctx: CallContext,
): Omit<SigningSummary, 'signingKeys'> {
  const doc = parsed.typedData;
  const analysis = analyzeTypedData(doc, ctx);
  const payload = typedDataPayload(doc);
  const domain = displayDomain(doc);
  const warnings = [...analysis.warnings];
  if (ctx.chainId === undefined)
    warnings.push('The typed data domain names no chainId: the signature may be valid on several chains.');
  return {
    chain: 'evm',
    kind: 'typed_data',
    ...(ctx.chainId !== undefined ? { chainId: ctx.chainId } : {}),
    movements: analysis.movements,
    fee: null,
    ...(analysis.call ? { call: analysis.call } : {}),
    blind: analysis.blind,
    typedData: { domain, primaryType: doc.primaryType },
    warnings,
    details: {
      kind: 'typed_data',
      from,
      chainId: ctx.chainId ?? null,
      domain,
      primaryType: doc.primaryType,
      types: payload.types,
      message: payload.message,
      call: analysis.call ?? null,
      blind: analysis.blind,
      domainSeparator: domainSeparator(doc),
      signingHash: typedDataDigest(doc),
    },
  };
}

/** Summarizes a parsed EVM request for review and policy, and plans its signature with one of our keys. */
export function summarizeEvm(
  parsed: ParsedEvmRequest,
  keys: KeyRecord[],
  tokens: KnownToken[] = [],
): { summary: SigningSummary; plan: EvmSigningPlan } {
  const ours = ourKeys(keys);
  const key = resolveKey(parsed, ours);
  const chainId =
    parsed.kind === 'transaction'
      ? parsed.chainId
      : parsed.kind === 'typed_data'
        ? chainIdOf(parsed.typedData.domain)
        : undefined;
  const ctx: CallContext = {
    chainId,
    tokens: new TokenBook(chainId, tokens),
    ours: new Set(ours.map((k) => k.address.toLowerCase())),
    from: key.address,
    // tx.origin is our key when we sign the transaction; for typed data it is whoever relays it (unknown).
    origin: parsed.kind === 'transaction' ? key.address : null,
  };
  const warnings: string[] = [];
  const digest = evmDigest(parsed);
  const body =
    parsed.kind === 'transaction'
      ? summarizeTransaction(parsed, key.address, ctx, warnings, digest)
      : parsed.kind === 'message'
        ? summarizeMessage(parsed, key.address)
        : summarizeTypedData(parsed, key.address, ctx);
  const summary: SigningSummary = Object.assign(body, { signingKeys: [key.record.label] });
  const plan: EvmSigningPlan = {
    kind: parsed.kind,
    keyLabel: key.record.label,
    keyId: key.record.keyId,
    publicKey: key.record.publicKey,
    address: key.address,
    digest,
  };
  return { summary, plan };
}
