/**
 * `keys export`: what an online wallet imports to watch the appliance's keys (docs/interop.md). One table of
 * formats; each names its chain, the file's text and, where the wallet scans one, its QR form. The EVM
 * pairing formats (MetaMask, Keystone) are rows like the others: their text is the crypto-account UR
 * (ERC-4527), and they add the pairing's source fingerprint and paths.
 */
import { makeError } from '../core/errors.js';
import type { Chain, KeyRecord } from '../core/signer.js';
import { DEFAULT_FRAGMENT_BYTES } from '../qr/ur-parts.js';
import type { ColdsignDb } from '../store/database.js';
import { exportEvmPairing } from './evm-pairing.js';

/** What a format may read besides the chosen keys (the EVM pairing's recorded paths and fingerprint). */
export interface KeyExportContext {
  db: ColdsignDb;
}

/** The pairing a wallet learns from an EVM export: the appliance's source fingerprint and each key's path. */
export interface KeyExportPairing {
  fingerprint: string;
  accounts: Array<{ label: string; address: string; path: string }>;
  warnings: string[];
}

/** One export format: the keys' chain, the file's text, and the QR texts (UR parts or plain text). */
export interface KeyExportFormat {
  chain: Chain;
  /** What the file is and which wallet reads it (shown by --help and in the report). */
  description: string;
  render(keys: KeyRecord[], context: KeyExportContext): Promise<string>;
  /** QR frames: UR parts (animated when long) or one plain text; absent when the format has no QR form. */
  qr?(
    keys: KeyRecord[],
    context: KeyExportContext,
    fragmentBytes: number,
  ): Promise<{ type: string; parts: string[] }>;
  /** EVM pairing formats: fingerprint, paths and wallet notes. */
  pairing?(keys: KeyRecord[], context: KeyExportContext): Promise<KeyExportPairing>;
}

const btcExport = () => import('./btc-key-export.js');

/** A crypto-account pairing row (ERC-4527 / BCR-2020-015) for an EVM QR wallet. */
function evmPairingFormat(wallet: 'metamask' | 'keystone', description: string): KeyExportFormat {
  const pairing = (keys: KeyRecord[], context: KeyExportContext, fragmentBytes?: number) =>
    exportEvmPairing(
      context.db,
      keys.map((k) => k.label),
      wallet,
      fragmentBytes,
    );
  return {
    chain: 'evm',
    description,
    render: async (keys, context) => `${(await pairing(keys, context)).parts.join('\n')}\n`,
    qr: async (keys, context, fragmentBytes) => ({
      type: 'crypto-account',
      parts: (await pairing(keys, context, fragmentBytes)).parts,
    }),
    pairing: async (keys, context) => {
      const { fingerprint, keys: accounts, warnings } = await pairing(keys, context);
      return { fingerprint, accounts, warnings };
    },
  };
}

export const KEY_EXPORT_FORMATS: Record<string, KeyExportFormat> = {
  descriptor: {
    chain: 'btc',
    description:
      'output descriptors with BIP-380 checksums, one per line (Sparrow, Specter, @bitcoinerlab/descriptors)',
    render: async (keys) => (await btcExport()).descriptorLines(keys),
    qr: async (keys, _context, fragment) => (await btcExport()).keysToUr(keys, fragment),
  },
  core: {
    chain: 'btc',
    description: 'Bitcoin Core `importdescriptors` request (JSON) for a wallet without private keys',
    render: async (keys) => (await btcExport()).coreImportRequest(keys),
  },
  electrum: {
    chain: 'btc',
    description: "addresses, one per line, for Electrum's imported-address (watch-only) wallet",
    render: async (keys) => (await btcExport()).electrumAddresses(keys),
    qr: async (keys) => ({ type: 'text', parts: [(await btcExport()).electrumAddresses(keys).trim()] }),
  },
  caravan: {
    chain: 'btc',
    description: "compressed public keys (JSON) for Caravan's address page (no xpub exists for an HSM key)",
    render: async (keys) => (await btcExport()).caravanPublicKeys(keys),
  },
  metamask: evmPairingFormat(
    'metamask',
    "crypto-account UR (ERC-4527) for MetaMask's QR hardware wallet pairing",
  ),
  keystone: evmPairingFormat('keystone', 'crypto-account UR (ERC-4527) for Keystone-compatible wallets'),
};

/** Longest plain text put in one QR frame (a version-25 symbol at level L holds about 1,850 bytes). */
const MAX_PLAIN_QR_CHARS = 1800;

export interface KeyExportResult {
  format: string;
  keys: KeyRecord[];
  /** The file's text (written with --out, else printed). */
  content: string;
  /** The QR form when asked for: its type and the texts of its frames. */
  qr: { type: string; parts: string[] } | null;
  pairing: KeyExportPairing | null;
}

/**
 * Exports the named keys (in the order given; every key of the format's chain when none is named) in one
 * format, with its QR form when `qr` is set. Reads public records only: no PIN.
 */
export async function exportKeys(
  context: KeyExportContext,
  labels: string[],
  formatName: string,
  options: { qr?: boolean; fragmentBytes?: number } = {},
): Promise<KeyExportResult> {
  const format = Object.prototype.hasOwnProperty.call(KEY_EXPORT_FORMATS, formatName)
    ? KEY_EXPORT_FORMATS[formatName]
    : undefined;
  if (!format)
    throw makeError('USAGE', `--format must be one of ${Object.keys(KEY_EXPORT_FORMATS).join(', ')}.`);
  if (options.qr && !format.qr)
    throw makeError('USAGE', `The ${formatName} export has no QR form; write it with --out.`);
  const keys = selectKeys(context.db.listKeys(), labels, format.chain);
  const content = await format.render(keys, context);
  let qr: KeyExportResult['qr'] = null;
  if (options.qr && format.qr) {
    qr = await format.qr(keys, context, options.fragmentBytes ?? DEFAULT_FRAGMENT_BYTES);
    if (qr.type === 'text' && qr.parts[0]!.length > MAX_PLAIN_QR_CHARS)
      throw makeError('USAGE', `The ${formatName} export is too long for one QR code; export fewer keys.`);
  }
  const pairing = format.pairing ? await format.pairing(keys, context) : null;
  return { format: formatName, keys, content, qr, pairing };
}

/** The named keys (in the order given), or every key of the format's chain when none is named. */
function selectKeys(all: KeyRecord[], labels: string[], chain: Chain): KeyRecord[] {
  if (labels.length === 0) {
    const keys = all.filter((k) => k.chain === chain);
    if (keys.length === 0)
      throw makeError(
        'KEY_NOT_FOUND',
        `There is no ${chain} key to export: create one with \`coldsign keys generate --chain ${chain} --label NAME\`.`,
      );
    return keys;
  }
  if (new Set(labels).size !== labels.length) throw makeError('USAGE', 'A key label is named twice.');
  return labels.map((label) => {
    const key = all.find((k) => k.label === label);
    if (!key) throw makeError('KEY_NOT_FOUND', `No key labelled "${label}" is registered.`, { label });
    if (key.chain !== chain) {
      throw makeError(
        'KEY_CHAIN_MISMATCH',
        `Key "${label}" is not a ${chain} key, so it cannot be exported in this format.`,
        { label },
      );
    }
    return key;
  });
}
