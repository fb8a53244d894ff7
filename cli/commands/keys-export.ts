/**
 * `coldsign keys export [LABEL...] --format F [--out FILE] [--qr DIR]`: what an online wallet imports to
 * watch the appliance's keys. One table of formats; each names its chain, the file it writes and, where
 * the wallet scans one, its QR form.
 */
import { mkdirSync } from 'node:fs';
import type { KeyRecord, Chain } from '../../core/signer.js';
import { makeError } from '../../core/errors.js';
import { DEFAULT_FRAGMENT_BYTES } from '../../qr/ur-parts.js';
import { checkOutputPath, writeOutputFile } from '../files.js';
import { printJson, println } from '../output.js';
import { withSession } from '../session.js';
import { writeQrFrames } from './requests.js';

/** One export format: the keys' chain, the file's text, and the QR texts (UR parts or plain text). */
export interface KeyExportFormat {
  chain: Chain;
  /** What the file is and which wallet reads it (shown by --help and in the report). */
  description: string;
  render(keys: KeyRecord[]): Promise<string>;
  /** QR frames: UR parts (animated when long) or one plain text; absent when the format has no QR form. */
  qr?(keys: KeyRecord[], fragmentBytes: number): Promise<{ type: string; parts: string[] }>;
}

const btcExport = () => import('../../appliance/btc-key-export.js');

export const KEY_EXPORT_FORMATS: Record<string, KeyExportFormat> = {
  descriptor: {
    chain: 'btc',
    description:
      'output descriptors with BIP-380 checksums, one per line (Sparrow, Specter, @bitcoinerlab/descriptors)',
    render: async (keys) => (await btcExport()).descriptorLines(keys),
    qr: async (keys, fragment) => (await btcExport()).keysToUr(keys, fragment),
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
};

/** Longest plain text put in one QR frame (a version-25 symbol at level L holds about 1,850 bytes). */
const MAX_PLAIN_QR_CHARS = 1800;

export async function keysExportCommand(
  labels: string[],
  options: { format: string; out?: string; qr?: string; fragment?: number; json?: boolean },
): Promise<void> {
  // EVM pairing (ERC-4527 crypto-account for MetaMask / Keystone) has its own writer.
  if (options.format === 'metamask' || options.format === 'keystone') {
    const { exportEvmCommand } = await import('./keys-export-evm.js');
    return exportEvmCommand(labels, options);
  }
  const format = KEY_EXPORT_FORMATS[options.format];
  if (!format) {
    throw makeError(
      'USAGE',
      `--format must be one of ${[...Object.keys(KEY_EXPORT_FORMATS), 'metamask', 'keystone'].join(', ')}.`,
    );
  }
  if (options.out) checkOutputPath(options.out);
  const all = await withSession(async (session) => session.listKeys(), { unlock: false });
  const keys = selectKeys(all, labels, format.chain);
  const text = await format.render(keys);
  let frames: string[] = [];
  let qrType: string | null = null;
  if (options.qr) {
    if (!format.qr)
      throw makeError('USAGE', `The ${options.format} export has no QR form; write it with --out.`);
    const { type, parts } = await format.qr(keys, options.fragment ?? DEFAULT_FRAGMENT_BYTES);
    if (type === 'text' && parts[0]!.length > MAX_PLAIN_QR_CHARS) {
      throw makeError(
        'USAGE',
        `The ${options.format} export is too long for one QR code; export fewer keys.`,
      );
    }
    mkdirSync(options.qr, { recursive: true });
    frames = await writeQrFrames(options.qr, parts);
    qrType = type;
  }
  if (options.out) writeOutputFile(options.out, text);
  if (options.json) {
    return printJson({
      format: options.format,
      keys: keys.map((k) => k.label),
      content: text,
      outputs: options.out ? [options.out] : [],
      qr: options.qr ? { type: qrType, frames } : null,
    });
  }
  if (!options.out && !options.qr) return void process.stdout.write(text);
  const what = `${keys.length} key${keys.length === 1 ? '' : 's'} as ${options.format}`;
  if (options.out) println(`Exported ${what} to ${options.out}.`);
  if (options.qr)
    println(
      `Wrote ${frames.length} QR frame${frames.length === 1 ? '' : 's'} (${qrType}) of ${what} to ${options.qr}.`,
    );
}

/** The named keys (in the order given), or every key of the format's chain when none is named. */
function selectKeys(all: KeyRecord[], labels: string[], chain: Chain): KeyRecord[] {
  if (labels.length === 0) {
    const keys = all.filter((k) => k.chain === chain);
    if (keys.length === 0) throw makeError('KEY_NOT_FOUND', `There is no ${chain} key to export.`);
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
        {
          label,
        },
      );
    }
    return key;
  });
}
