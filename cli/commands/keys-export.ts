/**
 * `coldsign keys export [LABEL...] --format F [--out FILE] [--qr DIR]`: what an online wallet imports to
 * watch the appliance's keys. The formats are one table in the appliance (appliance/key-export.ts); this
 * command writes the file or QR frames and reports.
 */
import { mkdirSync } from 'node:fs';
import { checkOutputPath, writeOutputFile } from '../files.js';
import { printJson, println } from '../output.js';
import { withSession } from '../session.js';
import { writeQrFrames } from './requests.js';

export async function keysExportCommand(
  labels: string[],
  options: { format: string; out?: string; qr?: string; fragment?: number; json?: boolean },
): Promise<void> {
  if (options.out) checkOutputPath(options.out);
  // Public records only: no PIN.
  const result = await withSession(
    async (session) =>
      session.keyExport(labels, options.format, { qr: Boolean(options.qr), fragmentBytes: options.fragment }),
    { unlock: false },
  );
  let frames: string[] = [];
  if (options.qr && result.qr) {
    mkdirSync(options.qr, { recursive: true });
    frames = await writeQrFrames(options.qr, result.qr.parts);
  }
  if (options.out) writeOutputFile(options.out, result.content);
  const { pairing } = result;
  if (options.json) {
    return printJson({
      format: result.format,
      keys: result.keys.map((k) => k.label),
      content: result.content,
      outputs: options.out ? [options.out] : [],
      qr: result.qr ? { type: result.qr.type, frames } : null,
      ...(pairing
        ? { fingerprint: pairing.fingerprint, accounts: pairing.accounts, warnings: pairing.warnings }
        : {}),
    });
  }
  const notes = pairing
    ? [
        `Pairing for ${result.format} (crypto-account, source fingerprint ${pairing.fingerprint}):`,
        ...pairing.accounts.map((a) => `  ${a.label.padEnd(20)} ${a.path.padEnd(20)} ${a.address}`),
        ...pairing.warnings.map((w) => `  note: ${w}`),
      ]
    : [];
  if (!options.out && !options.qr) {
    // The export alone on standard output (pipe it to a file or a wallet); the notes go to standard error.
    for (const note of notes) process.stderr.write(`${note}\n`);
    return void process.stdout.write(result.content);
  }
  for (const note of notes) println(note);
  const what = `${result.keys.length} key${result.keys.length === 1 ? '' : 's'} as ${result.format}`;
  if (options.out) println(`Exported ${what} to ${options.out}.`);
  if (options.qr)
    println(
      `Wrote ${frames.length} QR frame${frames.length === 1 ? '' : 's'} (${result.qr!.type}) of ${what} to ${options.qr}.`,
    );
}
