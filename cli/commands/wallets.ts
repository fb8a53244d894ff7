/**
 * `coldsign wallets export NAME --format descriptor|caravan|bsms` and `coldsign wallets import FILE --out DRAFT`:
 * thin wrappers over appliance/wallet-export.ts and appliance/wallet-import.ts (docs/interop.md).
 */
import { readFileSync, statSync } from 'node:fs';
import { makeError } from '../../core/errors.js';
import type { BtcNetwork } from '../../core/signer.js';
import {
  exportWallet,
  findWallet,
  WALLET_EXPORT_FORMATS,
  type WalletExportFormat,
} from '../../appliance/wallet-export.js';
import {
  draftWithWallet,
  MAX_WALLET_IMPORT_BYTES,
  readCoordinatorWallet,
} from '../../appliance/wallet-import.js';
import { checkOutputPath, writeOutputFile } from '../files.js';
import { printJson, println } from '../output.js';
import { withSession } from '../session.js';

const policyInForce = () => withSession(async (session) => session.policyInForce(), { unlock: false });

export async function walletsExportCommand(
  name: string,
  options: { format: string; out?: string; force?: boolean; json?: boolean },
): Promise<void> {
  if (!(WALLET_EXPORT_FORMATS as readonly string[]).includes(options.format)) {
    throw makeError('USAGE', `--format must be one of ${WALLET_EXPORT_FORMATS.join(', ')}.`);
  }
  if (options.out) checkOutputPath(options.out, options.force);
  const wallet = findWallet(await policyInForce(), name);
  const text = exportWallet(wallet, options.format as WalletExportFormat);
  if (options.out) writeOutputFile(options.out, text, options.force);
  if (options.json)
    return printJson({ wallet: wallet.name, format: options.format, file: options.out ?? null, text });
  if (options.out) return println(`Wallet "${wallet.name}" written to ${options.out} (${options.format}).`);
  process.stdout.write(text);
}

function readWalletFile(path: string): string {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw makeError('INPUT_NOT_FOUND', `${path} cannot be read.`);
  }
  if (size > MAX_WALLET_IMPORT_BYTES) {
    throw makeError(
      'INPUT_TOO_LARGE',
      `${path} is larger than ${MAX_WALLET_IMPORT_BYTES} bytes; no wallet file is.`,
    );
  }
  return readFileSync(path, 'utf8');
}

export async function walletsImportCommand(
  file: string,
  options: {
    out: string;
    name?: string;
    network?: BtcNetwork;
    index?: number;
    force?: boolean;
    json?: boolean;
  },
): Promise<void> {
  checkOutputPath(options.out, options.force);
  const imported = readCoordinatorWallet(readWalletFile(file), {
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.network !== undefined ? { network: options.network } : {}),
    ...(options.index !== undefined ? { index: options.index } : {}),
  });
  const { appliance } = await withSession(async (session) => session.policyShow(), { unlock: false });
  const draft = draftWithWallet(await policyInForce(), imported.wallet, appliance);
  writeOutputFile(options.out, `${JSON.stringify(draft, null, 2)}\n`, options.force);
  if (options.json) return printJson({ ...imported, draft: options.out, version: draft.version });
  println(
    `Wallet "${imported.wallet.name}" (${imported.format}, ${imported.wallet.network}) pays ${imported.address}:`,
  );
  println(`  ${imported.wallet.descriptor}`);
  println(`Policy draft version ${draft.version} written to ${options.out}; nothing is registered yet.`);
  println(
    `Officers check it, sign it (coldsign policy sign ${options.out} --key OFFICER.pem) and apply it (coldsign policy apply ${options.out}).`,
  );
}
