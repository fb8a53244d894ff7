/**
 * Import of a coordinator's multisig wallet into a policy draft (docs/interop.md): a plain output descriptor
 * (BIP-380), a Caravan wallet configuration (JSON) or a BIP-129 (BSMS) descriptor record. The result is a
 * DRAFT — the policy in force with the wallet added, a higher version and no signatures — that officers sign
 * and apply with `coldsign policy sign|apply`; nothing is registered here.
 */
import { address as btcAddress } from 'bitcoinjs-lib';
import { z } from 'zod';
import {
  descriptorLibrary,
  libraryNetwork,
  parseWalletDescriptor,
  WalletDescriptorError,
} from '../core/btc-wallet.js';
import { makeError } from '../core/errors.js';
import { parseJsonStrict } from '../core/json.js';
import type { BtcNetwork } from '../core/signer.js';
import { parsePolicy, type PolicyDocument, type PolicyWallet } from '../policy/schema.js';
import { BSMS_NO_PATH_RESTRICTIONS, BSMS_VERSION, walletAddress } from './wallet-export.js';

/** Largest coordinator file read (a 15-key Caravan configuration is about 3 KB). */
export const MAX_WALLET_IMPORT_BYTES = 64 * 1024;
/** BIP-32 child indexes below 2^31 are unhardened. */
const MAX_INDEX = 2 ** 31 - 1;
const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/;
const NETWORKS: BtcNetwork[] = ['mainnet', 'testnet', 'signet', 'regtest'];

export interface WalletImportOptions {
  /** The wallet's name in the policy (required unless a Caravan configuration names it). */
  name?: string;
  /** The network, when the file does not say it. */
  network?: BtcNetwork;
  /** The receive index N to register a ranged descriptor at (…/0/N). */
  index?: number;
}

export type WalletImportFormat = 'descriptor' | 'caravan' | 'bsms';

export interface ImportedWallet {
  format: WalletImportFormat;
  wallet: PolicyWallet;
  address: string;
}

function invalid(message: string): never {
  throw makeError('WALLET_IMPORT_INVALID', message);
}

function checkIndex(index: number | undefined): void {
  if (index !== undefined && !(Number.isInteger(index) && index >= 0 && index <= MAX_INDEX)) {
    invalid(`The address index must be a whole number from 0 to ${MAX_INDEX}.`);
  }
}

/** BIP-380: a given `#checksum` must be the one of the descriptor before it. */
function verifiedBody(descriptor: string): string {
  const [body, sum, ...rest] = descriptor.split('#');
  if (rest.length > 0 || body === undefined || body.length === 0) invalid('The descriptor is malformed.');
  if (sum !== undefined) {
    let expected: string;
    try {
      expected = descriptorLibrary().checksum(body);
    } catch {
      invalid('The descriptor holds characters no descriptor may hold (BIP-380).');
    }
    if (sum !== expected)
      invalid(`The descriptor's checksum #${sum} is wrong (BIP-380); the file was altered or mistyped.`);
  }
  return body;
}

/**
 * A ranged descriptor fixed at receive index N: `/**` and `/<0;1>/*` (BIP-389) become `/0/N`, `/*` becomes `/N`.
 * Hardened wildcards cannot be derived from public keys and are refused.
 */
function fixAtIndex(body: string, index: number | undefined, hint: string): string {
  if (!body.includes('*')) return body;
  if (/\*['h]/.test(body))
    invalid("The descriptor derives hardened children (*'), which no watch-only wallet can.");
  if (index === undefined) invalid(`The descriptor is ranged (/*): ${hint}`);
  return body
    .replaceAll('/**', `/0/${index}`)
    .replaceAll('/<0;1>/*', `/0/${index}`)
    .replaceAll('/*', `/${index}`);
}

function toWallet(name: string | undefined, body: string, network: BtcNetwork): PolicyWallet {
  if (!name) invalid('The wallet needs a name in the policy: give --name.');
  if (!NAME.test(name))
    invalid(
      `The wallet name "${name.slice(0, 80)}" must be 1–64 letters, digits, spaces, ".", "_" or "-": give --name.`,
    );
  const descriptor = `${body}#${descriptorLibrary().checksum(body)}`;
  try {
    parseWalletDescriptor(name, descriptor, network);
  } catch (error) {
    if (error instanceof WalletDescriptorError) invalid(`The wallet's descriptor ${error.message}.`);
    throw error;
  }
  return { name, descriptor, network };
}

/** The network an extended key's prefix names (xpub mainnet, tpub test networks), when there is one. */
function networkFromKeys(body: string): BtcNetwork | undefined {
  if (/[xyzYZ]pub[1-9A-HJ-NP-Za-km-z]{100}/.test(body)) return 'mainnet';
  if (/[tuvUV]pub[1-9A-HJ-NP-Za-km-z]{100}/.test(body)) return 'testnet';
  return undefined;
}

function importDescriptor(text: string, options: WalletImportOptions): Omit<ImportedWallet, 'address'> {
  const line = text.trim();
  if (/\s/.test(line)) invalid('A descriptor file holds one descriptor on one line.');
  const body = fixAtIndex(
    verifiedBody(line),
    options.index,
    'give --index N to register its receive address N.',
  );
  const network = options.network ?? networkFromKeys(body);
  if (!network) invalid('The descriptor holds no extended key to tell its network: give --network.');
  return { format: 'descriptor', wallet: toWallet(options.name, body, network) };
}

/** The network a BIP-129 first address belongs to (signet shares testnet's encodings). */
function addressNetwork(address: string, hint: BtcNetwork | undefined): BtcNetwork {
  const matches = NETWORKS.filter((network) => {
    try {
      btcAddress.toOutputScript(address, libraryNetwork(network));
      return true;
    } catch {
      return false;
    }
  });
  if (matches.length === 0)
    invalid(`The record's first address ${address.slice(0, 100)} is not a Bitcoin address.`);
  if (hint) {
    if (!matches.includes(hint)) invalid(`The record's first address is not a ${hint} address.`);
    return hint;
  }
  return matches[0]!;
}

/** BIP-129 descriptor record: "BSMS 1.0", the descriptor, the path restrictions, the first address. */
function importBsms(text: string, options: WalletImportOptions): Omit<ImportedWallet, 'address'> {
  const lines = text.replace(/\r\n/g, '\n').replace(/\n+$/, '').split('\n');
  if (lines.length !== 4)
    invalid(`A BSMS descriptor record has 4 lines (BIP-129); this one has ${lines.length}.`);
  const [version, descriptor, restrictions, firstAddress] = lines as [string, string, string, string];
  if (version !== BSMS_VERSION) invalid(`The record's first line must be "${BSMS_VERSION}" (BIP-129).`);
  if (restrictions !== BSMS_NO_PATH_RESTRICTIONS && !/^\/\d+\/\*(,\/\d+\/\*)*$/.test(restrictions)) {
    invalid(
      `The record's path restrictions line must be "${BSMS_NO_PATH_RESTRICTIONS}" or like "/0/*,/1/*" (BIP-129).`,
    );
  }
  const body = verifiedBody(descriptor);
  const network = addressNetwork(firstAddress, options.network);
  // BIP-129: the first address is the descriptor's (receive index 0 when it is ranged); check it first.
  const first = toWallet('first', fixAtIndex(body, 0, ''), network);
  if (walletAddress(first) !== firstAddress) {
    invalid(
      "The record's first address is not the descriptor's first address (BIP-129): the record is inconsistent.",
    );
  }
  const fixed = fixAtIndex(body, options.index ?? 0, '');
  return { format: 'bsms', wallet: toWallet(options.name, fixed, network) };
}

const caravanSchema = z.looseObject({
  name: z.string().max(200).optional(),
  addressType: z.enum(['P2WSH', 'P2SH-P2WSH', 'P2SH']),
  network: z.enum(['mainnet', 'testnet', 'signet', 'regtest']),
  quorum: z.looseObject({
    requiredSigners: z.int().min(1).max(15),
    totalSigners: z.int().min(1).max(15).optional(),
  }),
  extendedPublicKeys: z
    .array(
      z.looseObject({
        name: z.string().max(200).optional(),
        xpub: z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{100,120}$/),
        bip32Path: z.string().max(200),
        xfp: z
          .string()
          .regex(/^[0-9a-fA-F]{8}$/)
          .optional(),
      }),
    )
    .min(1)
    .max(15),
  startingAddressIndex: z.int().min(0).max(MAX_INDEX).optional(),
});

/** Caravan's `m/48'/1'/0'/2'` (or with h) as a BIP-380 key origin path; "Unknown" when Caravan says so. */
function originPath(bip32Path: string): string | null {
  if (bip32Path === 'Unknown') return null;
  if (!/^m(\/\d{1,10}['h]?){0,10}$/.test(bip32Path))
    invalid(`The BIP-32 path "${bip32Path.slice(0, 60)}" is not a path like m/48'/0'/0'/2'.`);
  return bip32Path.slice(1).replaceAll('h', "'");
}

/** Caravan's wallet configuration: sortedmulti (BIP-67) of the xpubs, each at XPUB/0/N. */
function importCaravan(value: unknown, options: WalletImportOptions): Omit<ImportedWallet, 'address'> {
  const parsed = caravanSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    invalid(`The Caravan configuration's field ${issue.path.join('.') || 'document'} is missing or wrong.`);
  }
  const config = parsed.data;
  const keys = config.extendedPublicKeys;
  if ((config.quorum.totalSigners ?? keys.length) !== keys.length) {
    invalid(
      `The Caravan configuration says ${config.quorum.totalSigners} signers but lists ${keys.length} keys.`,
    );
  }
  if (config.quorum.requiredSigners > keys.length)
    invalid('The Caravan configuration needs more signers than it has keys.');
  if (options.network && options.network !== config.network) {
    invalid(`The Caravan configuration is for ${config.network}, not ${options.network}.`);
  }
  const index = options.index ?? config.startingAddressIndex ?? 0;
  const keyExpressions = keys.map((k) => {
    const path = originPath(k.bip32Path);
    const origin = k.xfp && path !== null ? `[${k.xfp.toLowerCase()}${path}]` : '';
    return `${origin}${k.xpub}/0/${index}`;
  });
  const multi = `sortedmulti(${config.quorum.requiredSigners},${keyExpressions.join(',')})`;
  const wrap = { P2WSH: `wsh(${multi})`, 'P2SH-P2WSH': `sh(wsh(${multi}))`, P2SH: `sh(${multi})` }[
    config.addressType
  ];
  return { format: 'caravan', wallet: toWallet(options.name ?? config.name, wrap, config.network) };
}

/** Reads a coordinator's file (descriptor, Caravan JSON or BSMS record) into the wallet to register. */
export function readCoordinatorWallet(text: string, options: WalletImportOptions = {}): ImportedWallet {
  if (Buffer.byteLength(text, 'utf8') > MAX_WALLET_IMPORT_BYTES) {
    throw makeError('INPUT_TOO_LARGE', `A wallet file is at most ${MAX_WALLET_IMPORT_BYTES} bytes.`);
  }
  checkIndex(options.index);
  const trimmed = text.trim();
  if (trimmed.length === 0) throw makeError('INPUT_EMPTY', 'The wallet file is empty.');
  let imported: Omit<ImportedWallet, 'address'>;
  if (trimmed.startsWith('{'))
    imported = importCaravan(
      parseJsonStrict(trimmed, 'The Caravan configuration', 'WALLET_IMPORT_INVALID'),
      options,
    );
  else if (trimmed.startsWith('BSMS')) imported = importBsms(text.replace(/^\s+/, ''), options);
  else imported = importDescriptor(trimmed, options);
  return { ...imported, address: walletAddress(imported.wallet) };
}

/**
 * The policy draft: the policy in force (or an empty one) with the wallet added, the next version, this
 * appliance (its audit public key) and no signatures. A name or a script already registered is refused; the
 * draft passes the policy schema.
 */
export function draftWithWallet(
  current: PolicyDocument | null,
  wallet: PolicyWallet,
  appliance: string,
): PolicyDocument {
  const wallets = current?.wallets ?? [];
  if (wallets.some((w) => w.name === wallet.name)) {
    throw makeError(
      'WALLET_NAME_TAKEN',
      `A wallet named "${wallet.name}" is already registered: give another --name.`,
    );
  }
  const script = parseWalletDescriptor(wallet.name, wallet.descriptor, wallet.network).script;
  const same = wallets.find(
    (w) =>
      w.network === wallet.network &&
      parseWalletDescriptor(w.name, w.descriptor, w.network).script === script,
  );
  if (same) {
    throw makeError('WALLET_ALREADY_REGISTERED', `This wallet is already registered as "${same.name}".`);
  }
  const { signatures: _signatures, ...unsigned } = current ?? { version: 0, rules: [] };
  void _signatures;
  return parsePolicy({
    ...unsigned,
    appliance,
    version: unsigned.version + 1,
    wallets: [...wallets, wallet],
  });
}
