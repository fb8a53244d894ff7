/**
 * EVM request intake (pure): content detection of an unsigned transaction (hex text or binary envelope)
 * or a JSON request document, and the ERC-4527 eth-sign-request data types. See docs/evm-requests.md.
 */
import canonicalizeModule from 'canonicalize';
import { Signature, getBytes, hexlify, type TransactionLike } from 'ethers';
import { hexToBytes } from '@noble/hashes/utils.js';
import { z } from 'zod';
import { makeError, isColdsignError } from '../../core/errors.js';
import { parseJsonStrict } from '../../core/json.js';
import { checksumAddress } from './address.js';
import { parseUnsignedTransaction, transactionFromFields, type ParsedUnsignedTransaction } from './tx.js';
import { parseTypedData, typedDataPayload } from './typed-data.js';
import type {
  EvmRequestSource,
  ParsedEvmMessage,
  ParsedEvmRequest,
  ParsedEvmTransaction,
  ParsedEvmTypedData,
} from './types.js';

/** Largest request document accepted (typed data can be large; transactions are capped at 128 KiB separately). */
export const MAX_REQUEST_BYTES = 1024 * 1024;
const MAX_MESSAGE_BYTES = 64 * 1024;

/** RFC 8785 canonical JSON (the CommonJS default export is typed as a namespace under NodeNext). */
const canonicalize = ((canonicalizeModule as unknown as { default?: unknown }).default ??
  canonicalizeModule) as unknown as (value: unknown) => string | undefined;

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an address (0x + 40 hex digits)');
const hexData = z.string().regex(/^0x([0-9a-fA-F]{2})*$/, '0x-prefixed hex bytes');
const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, '32 bytes of 0x hex');
/** Integers: a safe JSON number, a decimal string or a 0x hex quantity (at most 78 digits = 2^256). */
const quantity = z.union([
  z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  z.string().regex(/^(0|[1-9][0-9]{0,77})$/, 'a decimal integer'),
  z.string().regex(/^0x[0-9a-fA-F]{1,64}$/, 'a 0x hex quantity'),
]);

const accessListSchema = z
  .array(z.strictObject({ address, storageKeys: z.array(bytes32).max(1024) }))
  .max(1024);
const authorizationSchema = z.strictObject({
  chainId: quantity,
  address,
  nonce: quantity,
  yParity: z.union([z.literal(0), z.literal(1)]),
  r: bytes32,
  s: bytes32,
});

const transactionFields = z.strictObject({
  type: z.literal('transaction'),
  from: address.optional(),
  txType: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(4)]).optional(),
  chainId: quantity,
  nonce: quantity,
  gasLimit: quantity,
  to: address.nullable().optional(),
  value: quantity.optional(),
  data: hexData.optional(),
  gasPrice: quantity.optional(),
  maxFeePerGas: quantity.optional(),
  maxPriorityFeePerGas: quantity.optional(),
  accessList: accessListSchema.optional(),
  authorizationList: z.array(authorizationSchema).max(256).optional(),
});
const transactionRaw = z.strictObject({
  type: z.literal('transaction'),
  from: address.optional(),
  raw: hexData,
});
const personalSign = z.strictObject({
  type: z.literal('personal_sign'),
  from: address.optional(),
  message: z.string().optional(),
  messageHex: hexData.optional(),
});
const typedData = z.strictObject({
  type: z.literal('typed_data'),
  from: address.optional(),
  /** The eth_signTypedData_v4 object, or its JSON text; validated by parseTypedData. */
  typedData: z.unknown(),
});

function zodMessage(error: z.ZodError): string {
  const issue = error.issues[0];
  const path = issue?.path.length ? issue.path.join('.') : 'document';
  return `${path}: ${issue?.message ?? 'invalid'}`.slice(0, 200);
}

function parseWith<T>(schema: z.ZodType<T>, doc: unknown): T {
  const result = schema.safeParse(doc);
  if (!result.success)
    throw makeError('REQUEST_INVALID', `The EVM request document is invalid (${zodMessage(result.error)}).`);
  return result.data;
}

function toBigIntQuantity(value: number | string): bigint {
  return BigInt(value);
}

function fromAddress(text: string | undefined): string | undefined {
  return text === undefined ? undefined : checksumAddress(text, '"from" address');
}

function transactionRequest(
  parsed: ParsedUnsignedTransaction,
  from: string | undefined,
  source: EvmRequestSource,
): ParsedEvmTransaction {
  return {
    chain: 'evm',
    kind: 'transaction',
    txType: parsed.txType,
    fields: parsed.fields,
    chainId: parsed.chainId,
    from,
    canonical: parsed.bytes,
    source,
  };
}

function canonicalJson(value: unknown): Uint8Array {
  const text = canonicalize(value);
  if (text === undefined) throw makeError('INTERNAL', 'The request could not be canonicalized.');
  return utf8Encoder.encode(text);
}

/** Builds a personal_sign request; the canonical form is RFC 8785 JSON of {type, from, messageHex}. */
export function messageRequest(
  message: Uint8Array,
  from: string | undefined,
  source: EvmRequestSource,
): ParsedEvmMessage {
  if (message.length > MAX_MESSAGE_BYTES)
    throw makeError('INPUT_TOO_LARGE', `The message is larger than ${MAX_MESSAGE_BYTES} bytes.`);
  return {
    chain: 'evm',
    kind: 'message',
    message,
    from,
    canonical: canonicalJson({ type: 'personal_sign', from: from ?? null, messageHex: hexlify(message) }),
    source,
  };
}

/** Builds a typed-data request; the canonical form is RFC 8785 JSON of {type, from, typedData (normalized v4 payload)}. */
export function typedDataRequest(
  input: unknown,
  from: string | undefined,
  source: EvmRequestSource,
): ParsedEvmTypedData {
  const doc = parseTypedData(input);
  return {
    chain: 'evm',
    kind: 'typed_data',
    typedData: doc,
    from,
    canonical: canonicalJson({ type: 'typed_data', from: from ?? null, typedData: typedDataPayload(doc) }),
    source,
  };
}

function transactionFromDocument(doc: z.infer<typeof transactionFields>): ParsedUnsignedTransaction {
  const fee = doc.maxFeePerGas !== undefined || doc.maxPriorityFeePerGas !== undefined;
  if (fee && doc.gasPrice !== undefined)
    throw makeError('REQUEST_INVALID', 'A transaction has either gasPrice or maxFeePerGas, not both.');
  const txType =
    doc.txType ?? (doc.authorizationList ? 4 : doc.gasPrice !== undefined ? (doc.accessList ? 1 : 0) : 2);
  if ((txType === 0 || txType === 1) && doc.gasPrice === undefined)
    throw makeError('REQUEST_INVALID', `A type ${txType} transaction needs gasPrice.`);
  if (
    (txType === 2 || txType === 4) &&
    (doc.maxFeePerGas === undefined || doc.maxPriorityFeePerGas === undefined)
  ) {
    throw makeError(
      'REQUEST_INVALID',
      `A type ${txType} transaction needs maxFeePerGas and maxPriorityFeePerGas.`,
    );
  }
  if (txType !== 4 && doc.authorizationList)
    throw makeError('REQUEST_INVALID', 'Only a type 4 transaction has an authorizationList.');
  if (txType === 0 && doc.accessList)
    throw makeError('REQUEST_INVALID', 'A legacy transaction has no accessList.');
  if (txType !== 0 && txType !== 1 && doc.gasPrice !== undefined)
    throw makeError('REQUEST_INVALID', `A type ${txType} transaction has no gasPrice.`);
  const chainId = toBigIntQuantity(doc.chainId);
  if (chainId === 0n)
    throw makeError('EVM_CHAIN_ID_MISSING', 'The transaction has chainId 0, which is valid on every chain.');
  const nonce = toBigIntQuantity(doc.nonce);
  if (nonce > BigInt(Number.MAX_SAFE_INTEGER))
    throw makeError('EVM_TX_INVALID', 'The nonce is out of range.');
  const fields: TransactionLike = {
    type: txType,
    chainId,
    nonce: Number(nonce),
    gasLimit: toBigIntQuantity(doc.gasLimit),
    to: doc.to ?? null,
    value: toBigIntQuantity(doc.value ?? 0),
    data: doc.data ?? '0x',
  };
  if (doc.gasPrice !== undefined) fields.gasPrice = toBigIntQuantity(doc.gasPrice);
  if (doc.maxFeePerGas !== undefined) fields.maxFeePerGas = toBigIntQuantity(doc.maxFeePerGas);
  if (doc.maxPriorityFeePerGas !== undefined)
    fields.maxPriorityFeePerGas = toBigIntQuantity(doc.maxPriorityFeePerGas);
  if (doc.accessList) fields.accessList = doc.accessList;
  if (doc.authorizationList) {
    try {
      fields.authorizationList = doc.authorizationList.map((a) => ({
        chainId: toBigIntQuantity(a.chainId),
        address: a.address,
        nonce: toBigIntQuantity(a.nonce),
        signature: Signature.from({ r: a.r, s: a.s, yParity: a.yParity }),
      }));
    } catch (error) {
      throw makeError(
        'REQUEST_INVALID',
        'An EIP-7702 authorization has an invalid signature (r, s, yParity).',
        {},
        error,
      );
    }
  }
  return transactionFromFields(fields);
}

function parseDocument(doc: unknown): ParsedEvmRequest {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw makeError('REQUEST_INVALID', 'An EVM request document is a JSON object with a "type".');
  }
  const type = (doc as { type?: unknown }).type;
  const source: EvmRequestSource = { format: 'json' };
  switch (type) {
    case 'transaction': {
      if ('raw' in doc) {
        const d = parseWith(transactionRaw, doc);
        return transactionRequest(parseUnsignedTransaction(getBytes(d.raw)), fromAddress(d.from), source);
      }
      const d = parseWith(transactionFields, doc);
      return transactionRequest(transactionFromDocument(d), fromAddress(d.from), source);
    }
    case 'personal_sign': {
      const d = parseWith(personalSign, doc);
      if ((d.message === undefined) === (d.messageHex === undefined)) {
        throw makeError(
          'EVM_MESSAGE_INVALID',
          'A personal_sign request has exactly one of "message" (text) or "messageHex".',
        );
      }
      const message = d.message !== undefined ? utf8Encoder.encode(d.message) : getBytes(d.messageHex!);
      return messageRequest(message, fromAddress(d.from), source);
    }
    case 'typed_data': {
      const d = parseWith(typedData, doc);
      return typedDataRequest(d.typedData, fromAddress(d.from), source);
    }
    // eth_sign signs an arbitrary 32-byte hash: the appliance cannot show what it authorizes.
    case 'eth_sign':
      throw makeError(
        'EVM_ETH_SIGN_REFUSED',
        'Raw eth_sign of a hash is refused: the appliance cannot show what it would authorize.',
      );
    default:
      throw makeError(
        'REQUEST_INVALID',
        'The EVM request "type" must be transaction, personal_sign or typed_data.',
      );
  }
}

function firstNonSpace(input: Uint8Array): number {
  let i = 0;
  // UTF-8 byte order mark
  if (input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf) i = 3;
  while (
    i < input.length &&
    (input[i] === 0x20 || input[i] === 0x09 || input[i] === 0x0a || input[i] === 0x0d)
  )
    i++;
  return i;
}

function parseHexText(text: string): ParsedEvmRequest {
  const digits = text.startsWith('0x') || text.startsWith('0X') ? text.slice(2) : text;
  let bytes: Uint8Array;
  try {
    // one pass: refuses odd lengths and non-hex characters while it converts
    bytes = hexToBytes(digits);
  } catch {
    throw makeError(
      'INPUT_UNRECOGNIZED',
      'The input is neither a JSON request nor an even-length hex transaction.',
    );
  }
  try {
    return transactionRequest(parseUnsignedTransaction(bytes), undefined, { format: 'hex' });
  } catch (error) {
    // A bare 32-byte value that is not a transaction is a hash: that is eth_sign.
    if (
      bytes.length === 32 &&
      (isColdsignError(error, 'EVM_TX_INVALID') || isColdsignError(error, 'EVM_TX_UNSUPPORTED'))
    ) {
      throw makeError('EVM_ETH_SIGN_REFUSED', 'A bare 32-byte hash cannot be signed (eth_sign is refused).');
    }
    throw error;
  }
}

/** Detects and parses an EVM request from its bytes (never from a file name). */
export function parseEvmRequest(input: Uint8Array): ParsedEvmRequest {
  if (input.length > MAX_REQUEST_BYTES)
    throw makeError('INPUT_TOO_LARGE', `The EVM request is larger than ${MAX_REQUEST_BYTES} bytes.`);
  const start = firstNonSpace(input);
  if (start >= input.length) throw makeError('INPUT_EMPTY', 'The EVM request is empty.');
  const first = input[start]!;
  // EIP-2718 binary envelope (types 1–4, or a legacy RLP list ≥ 0xc0) given as raw bytes.
  if (start === 0 && (first <= 0x04 || first >= 0xc0)) {
    return transactionRequest(parseUnsignedTransaction(input), undefined, { format: 'binary' });
  }
  let text: string;
  try {
    text = utf8Decoder.decode(input.subarray(start)).trim();
  } catch (error) {
    throw makeError(
      'INPUT_UNRECOGNIZED',
      'The input is neither UTF-8 text nor a binary EVM transaction.',
      {},
      error,
    );
  }
  if (first === 0x7b) {
    return parseDocument(parseJsonStrict(text, 'The EVM request document', 'REQUEST_INVALID'));
  }
  return parseHexText(text);
}

/** ERC-4527 eth-sign-request data types: 1 legacy tx RLP, 2 typed data JSON, 3 personal message bytes, 4 typed tx. */
export function fromEthSignRequest(req: {
  dataType: 1 | 2 | 3 | 4;
  signData: Uint8Array;
  chainId?: number;
  address?: string;
}): ParsedEvmRequest {
  const from =
    req.address === undefined ? undefined : checksumAddress(req.address, 'eth-sign-request address');
  const source: EvmRequestSource = {
    format: 'eth-sign-request',
    dataType: req.dataType,
    chainId: req.chainId,
    address: from,
  };
  if (req.signData.length > MAX_REQUEST_BYTES)
    throw makeError('INPUT_TOO_LARGE', `The signData is larger than ${MAX_REQUEST_BYTES} bytes.`);
  switch (req.dataType) {
    case 1:
    case 4: {
      const parsed = parseUnsignedTransaction(req.signData);
      // ERC-4527: type 1 carries a legacy RLP transaction, type 4 an EIP-2718 typed transaction.
      if ((req.dataType === 1) !== (parsed.txType === 0)) {
        throw makeError(
          'EVM_TX_INVALID',
          `eth-sign-request data type ${req.dataType} does not match a type ${parsed.txType} transaction.`,
        );
      }
      if (req.chainId !== undefined && req.chainId !== parsed.chainId) {
        throw makeError(
          'EVM_TX_INVALID',
          `The eth-sign-request chainId ${req.chainId} differs from the transaction's chainId ${parsed.chainId}.`,
        );
      }
      return transactionRequest(parsed, from, source);
    }
    case 2: {
      let text: string;
      try {
        text = utf8Decoder.decode(req.signData);
      } catch (error) {
        throw makeError(
          'EVM_TYPED_DATA_INVALID',
          'The typed data of the eth-sign-request is not UTF-8 JSON.',
          {},
          error,
        );
      }
      const parsed = typedDataRequest(text, from, source);
      const domainChainId = parsed.typedData.domain.chainId;
      // ERC-4527: the request's chainId must agree with the EIP-712 domain's, when both are given.
      if (
        req.chainId !== undefined &&
        domainChainId !== undefined &&
        BigInt(domainChainId as string | number) !== BigInt(req.chainId)
      ) {
        throw makeError(
          'EVM_TYPED_DATA_INVALID',
          `The eth-sign-request chainId ${req.chainId} differs from the typed data domain's chainId.`,
        );
      }
      return parsed;
    }
    case 3:
      return messageRequest(req.signData, from, source);
    default:
      throw makeError(
        'UR_INVALID',
        `eth-sign-request data type ${String(req.dataType)} is not 1, 2, 3 or 4.`,
      );
  }
}
