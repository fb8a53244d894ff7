/**
 * Bitcoin message signing requests (pure): the request document
 * `{"type":"bip322","address":…,"message":…,"format"?:"bip322"|"legacy","encoding"?:"utf8"|"hex"}`, read as
 * strict JSON (duplicate keys refused), routed to our Bitcoin key by address, and summarized for the policy
 * and the review. BIP-322 "simple" signs for P2WPKH keys; the legacy signed message (BIP-137 headers) for
 * P2PKH and P2WPKH keys.
 */
import { address as baddress } from 'bitcoinjs-lib';
import { z } from 'zod';
import { fromHex, sha256Hex, toHex } from '../../core/bytes.js';
import { makeError } from '../../core/errors.js';
import { parseJsonStrict } from '../../core/json.js';
import type { BtcNetwork, BtcScriptType, KeyRecord } from '../../core/signer.js';
import type { SigningSummary } from '../../core/summary.js';
import { bip322P2wpkhDigest, legacyMessageDigest, MAX_MESSAGE_BYTES, type MessageFormat } from './bip322.js';
import { BTC_NETWORKS, networkParams } from './network.js';

/** Largest request document read (a 64 KiB message as hex, with room for the other fields). */
export const MAX_MESSAGE_REQUEST_BYTES = 2 * MAX_MESSAGE_BYTES + 4096;

const FORMATS = ['bip322', 'legacy'] as const;
const ENCODINGS = ['utf8', 'hex'] as const;

const requestSchema = z.strictObject({
  type: z.literal('bip322', { error: 'must be "bip322"' }),
  address: z
    .string({ error: 'must be the Bitcoin address of our key, in quotes' })
    .min(1, { error: 'must be the Bitcoin address of our key' })
    .max(100, { error: 'is too long for a Bitcoin address' }),
  message: z
    .string({ error: 'must be the message text in quotes (or hex with "encoding": "hex")' })
    .max(2 * MAX_MESSAGE_BYTES, { error: `is longer than ${MAX_MESSAGE_BYTES} bytes` }),
  format: z.enum(FORMATS, { error: 'must be "bip322" or "legacy"' }).optional(),
  encoding: z.enum(ENCODINGS, { error: 'must be "utf8" or "hex"' }).optional(),
});

/** A request document as read: the message bytes, and what the document asked for. */
export interface BtcMessageRequest {
  address: string;
  message: Uint8Array;
  /** The message as text when it is printable UTF-8, else null (it is then shown as hex). */
  text: string | null;
  encoding: (typeof ENCODINGS)[number];
  /** The format asked for; absent: BIP-322 for P2WPKH keys, legacy for P2PKH keys. */
  format?: MessageFormat;
}

/** Whether `text` is a request document of this module (`"type": "bip322"`); decided by content only. */
export function looksLikeBtcMessageRequest(text: string): boolean {
  // No size cap here (intake bounds every input): an oversized message request is refused as one, not as EVM.
  if (!text.startsWith('{')) return false;
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'bip322';
  } catch {
    return false;
  }
}

function invalid(message: string): never {
  throw makeError('BTC_MESSAGE_INVALID', message);
}

/** Parses a request document; every mistake is BTC_MESSAGE_INVALID naming its field (or BTC_MESSAGE_TOO_LARGE). */
export function parseBtcMessageRequest(bytes: Uint8Array): BtcMessageRequest {
  if (bytes.length > MAX_MESSAGE_REQUEST_BYTES)
    throw makeError(
      'BTC_MESSAGE_TOO_LARGE',
      `The message request has ${bytes.length} bytes; at most ${MAX_MESSAGE_REQUEST_BYTES} are read.`,
    );
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    invalid('The message request is not UTF-8 text.');
  }
  const doc = parseJsonStrict(text, 'The message request', 'BTC_MESSAGE_INVALID');
  const result = requestSchema.safeParse(doc);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : 'document';
    const what =
      issue.code === 'unrecognized_keys'
        ? `has unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')} (check the spelling)`
        : issue.path.length === 0
          ? 'must be a JSON object'
          : issue.message;
    invalid(`The message request field ${where} ${what}.`);
  }
  const { address, format } = result.data;
  const encoding = result.data.encoding ?? 'utf8';
  const message = encoding === 'hex' ? hexMessage(result.data.message) : utf8Bytes(result.data.message);
  if (message.length > MAX_MESSAGE_BYTES)
    throw makeError(
      'BTC_MESSAGE_TOO_LARGE',
      `The message has ${message.length} bytes; at most ${MAX_MESSAGE_BYTES} are signed.`,
    );
  return { address, message, text: printable(message), encoding, ...(format ? { format } : {}) };
}

function hexMessage(text: string): Uint8Array {
  const hex = text.replace(/^0x/i, '');
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex))
    invalid(
      'The message request field message must be hex (an even number of 0-9, a-f) with "encoding": "hex".',
    );
  return fromHex(hex);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function utf8Bytes(text: string): Uint8Array {
  // A lone surrogate has no UTF-8 form: the bytes signed would not be the text shown.
  if (LONE_SURROGATE.test(text))
    invalid('The message request field message is not well-formed Unicode text.');
  return new TextEncoder().encode(text);
}

/** C0 controls other than tab, line feed and carriage return, and DEL. */
function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0x7f) return true;
  }
  return false;
}

/** Printable UTF-8 (tabs and line breaks allowed), else null. */
function printable(bytes: Uint8Array): string | null {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return hasControlCharacters(text) ? null : text;
  } catch {
    return null;
  }
}

/** What the HSM signs for one message request, fixed at review time (the digest is announced before signing). */
export interface BtcMessagePlan {
  keyLabel: string;
  keyId: string;
  publicKey: Uint8Array;
  script: BtcScriptType;
  network: BtcNetwork;
  format: MessageFormat;
  message: Uint8Array;
  /** Hex digest the key signs: BIP-322 to_sign's BIP-143 sighash, or the legacy message hash. */
  digest: string;
}

/** The Bitcoin networks whose address encoding `address` is valid for (mainnet, testnet, regtest). */
function networksOf(address: string): BtcNetwork[] {
  return BTC_NETWORKS.filter((network) => {
    try {
      baddress.toOutputScript(address, networkParams(network));
      return true;
    } catch {
      return false;
    }
  });
}

/** The script an address pays, for comparing addresses of one network whatever their letter case. */
function scriptOf(address: string, network: BtcNetwork): string {
  return toHex(baddress.toOutputScript(address, networkParams(network)));
}

/**
 * Routes the request to the Bitcoin key whose address it names (BTC_MESSAGE_ADDRESS_NOT_OURS otherwise) and
 * picks the format: BIP-322 simple needs a P2WPKH key; the legacy format serves P2PKH and P2WPKH (BIP-137).
 */
export function planBtcMessage(request: BtcMessageRequest, keys: readonly KeyRecord[]): BtcMessagePlan {
  const networks = networksOf(request.address);
  if (networks.length === 0)
    invalid(`The message request field address "${request.address.slice(0, 100)}" is not a Bitcoin address.`);
  const key = keys.find(
    (k) =>
      k.chain === 'btc' &&
      networks.includes(k.network ?? 'mainnet') &&
      scriptOf(k.address, k.network ?? 'mainnet') === scriptOf(request.address, k.network ?? 'mainnet'),
  );
  if (!key || !key.script)
    throw makeError(
      'BTC_MESSAGE_ADDRESS_NOT_OURS',
      `${request.address} is not the address of a Bitcoin key on this appliance; a message is signed only for our own address.`,
      { address: request.address },
    );
  const script = key.script;
  const format = request.format ?? (script === 'p2wpkh' ? 'bip322' : 'legacy');
  // BIP-322 simple: P2WPKH here (P2SH-P2WPKH and P2PKH need the "full" form); BIP-137 legacy: P2PKH and P2WPKH.
  if (format === 'bip322' && script !== 'p2wpkh')
    throw makeError(
      'BTC_MESSAGE_FORMAT_UNSUPPORTED',
      `A BIP-322 simple signature needs a P2WPKH address; ${request.address} is ${script.toUpperCase()} (use "format": "legacy" for P2PKH).`,
    );
  if (format === 'legacy' && script === 'p2sh-p2wpkh')
    throw makeError(
      'BTC_MESSAGE_FORMAT_UNSUPPORTED',
      `The legacy signed message is offered for P2PKH and P2WPKH addresses only; ${request.address} is P2SH-P2WPKH.`,
    );
  const publicKey = fromHex(key.publicKey);
  const digest =
    format === 'bip322'
      ? bip322P2wpkhDigest(request.message, publicKey).digest
      : legacyMessageDigest(request.message);
  return {
    keyLabel: key.label,
    keyId: key.keyId,
    publicKey,
    script,
    network: key.network ?? 'mainnet',
    format,
    message: request.message,
    digest: toHex(digest),
  };
}

/** The canonical request bytes (fixed member order): their SHA-256 is the request id. */
export function canonicalBtcMessage(request: BtcMessageRequest, plan: BtcMessagePlan): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      type: 'bip322',
      address: request.address,
      format: plan.format,
      message: toHex(request.message),
    }),
  );
}

export const FORMAT_NAMES: Record<MessageFormat, string> = {
  bip322: 'BIP-322 simple',
  legacy: 'legacy Bitcoin Signed Message (BIP-137 header)',
};

/** The summary the policy and the review read: a message, no value moves. */
export function summarizeBtcMessage(request: BtcMessageRequest, plan: BtcMessagePlan): SigningSummary {
  const hex = toHex(request.message);
  return {
    chain: 'btc',
    kind: 'message',
    network: plan.network,
    signingKeys: [plan.keyLabel],
    movements: [],
    fee: null,
    blind: false,
    message: { text: request.text, hex: `0x${hex}` },
    warnings:
      request.text === null ? ['The message is not printable text; check its hex bytes before signing.'] : [],
    details: {
      type: 'bip322',
      address: request.address,
      key: plan.keyLabel,
      script: plan.script,
      network: plan.network,
      format: plan.format,
      formatName: FORMAT_NAMES[plan.format],
      encoding: request.encoding,
      messageBytes: request.message.length,
      message: request.text,
      messageHex: `0x${hex}`,
      digest: plan.digest,
      messageSha256: sha256Hex(request.message),
    },
  };
}
