/** `coldsign keys export --format metamask|keystone`: the crypto-account pairing QR for EVM wallets. */
import { exportEvmPairing } from '../../appliance/evm-pairing.js';
import { makeError } from '../../core/errors.js';
import { checkOutputPath, writeOutputFile } from '../files.js';
import { printJson, println } from '../output.js';
import { withSession } from '../session.js';
import { writeQrFrames } from './requests.js';

export const EVM_EXPORT_FORMATS = ['metamask', 'keystone'] as const;
export type EvmExportFormat = (typeof EVM_EXPORT_FORMATS)[number];

export function isEvmExportFormat(format: string): format is EvmExportFormat {
  return (EVM_EXPORT_FORMATS as readonly string[]).includes(format);
}

export async function exportEvmCommand(
  labels: string[],
  options: { format: string; out?: string; qr?: string; json?: boolean },
): Promise<void> {
  const format = options.format;
  if (!isEvmExportFormat(format))
    throw makeError('USAGE', `--format must be one of ${EVM_EXPORT_FORMATS.join(', ')}.`);
  if (options.out) checkOutputPath(options.out);
  // The pairing needs no PIN: public keys and the audit public key are in the home.
  const result = await withSession(async (session) => exportEvmPairing(session.db, labels, format), {
    unlock: false,
  });
  if (options.out) writeOutputFile(options.out, `${result.parts.join('\n')}\n`);
  const frames = options.qr ? await writeQrFrames(options.qr, result.parts) : [];
  if (options.json) return printJson({ ...result, frames });
  println(`Pairing for ${format} (crypto-account, source fingerprint ${result.fingerprint}):`);
  for (const key of result.keys) println(`  ${key.label.padEnd(20)} ${key.path.padEnd(20)} ${key.address}`);
  for (const warning of result.warnings) println(`  note: ${warning}`);
  if (options.qr) println(`  QR: ${frames.length} frame(s) in ${options.qr}`);
  if (options.out) println(`  UR: ${options.out}`);
  if (!options.out && !options.qr) println(result.parts.join('\n'));
}
