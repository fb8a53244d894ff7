/** `coldsign keys generate|list|show`. */
import { writeFileSync } from 'node:fs';
import type { GenerateKeyOptions } from '../../appliance/api.js';
import { makeError } from '../../core/errors.js';
import type { KeyRecord } from '../../core/signer.js';
import { withSession } from '../session.js';
import { printJson, println } from '../output.js';

export async function generateCommand(options: GenerateKeyOptions & { json?: boolean }): Promise<void> {
  const record = await withSession((session) => session.generateKey(options));
  if (options.json) return printJson(record);
  println(`Generated ${record.chain} key "${record.label}" inside the HSM (non-extractable).`);
  printKey(record);
}

export async function listCommand(options: { json?: boolean }): Promise<void> {
  const keys = await withSession(async (session) => session.listKeys(), { unlock: false });
  if (options.json) return printJson({ keys });
  if (keys.length === 0)
    return println('No keys yet: create one with `coldsign keys generate --chain btc|evm --label NAME`.');
  for (const key of keys) {
    const where = key.chain === 'btc' ? `${key.network} ${key.script}` : 'evm';
    println(`${key.label.padEnd(20)} ${where.padEnd(22)} ${key.address}`);
  }
}

export async function showCommand(label: string, options: { json?: boolean; qr?: string }): Promise<void> {
  const key = await withSession(async (session) => session.db.findKey(label), { unlock: false });
  if (!key) throw makeError('KEY_NOT_FOUND', `No key labelled "${label}" is registered.`, { label });
  if (options.qr) {
    // BIP-21 / EIP-681 URIs, as wallets expect when they scan an address
    const uri = key.chain === 'btc' ? `bitcoin:${key.address}` : `ethereum:${key.address}`;
    const { default: QRCode } = await import('qrcode');
    writeFileSync(options.qr, await QRCode.toBuffer(uri, { errorCorrectionLevel: 'M', margin: 4, scale: 8 }));
  }
  if (options.json) return printJson(key);
  printKey(key);
  if (options.qr) println(`  QR code:    ${options.qr}`);
}

function printKey(key: KeyRecord): void {
  println(`  label:      ${key.label}`);
  println(`  chain:      ${key.chain}${key.network ? ` (${key.network}, ${key.script})` : ''}`);
  println(`  address:    ${key.address}`);
  println(`  public key: ${key.publicKey}`);
  if (key.descriptor) println(`  descriptor: ${key.descriptor}`);
}
