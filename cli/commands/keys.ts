/** `coldsign keys generate|list|show` (export: keys-export.ts). */
import { writeFileSync } from 'node:fs';
import type { GenerateKeyOptions } from '../../appliance/api.js';
import { makeError } from '../../core/errors.js';
import type { KeyRecord } from '../../core/signer.js';
import { withSession } from '../session.js';
import { printJson, println } from '../output.js';

/** Largest key pool made by one `keys generate --count`. */
export const MAX_POOL_SIZE = 1000;

export async function generateCommand(
  options: GenerateKeyOptions & { count?: number; json?: boolean },
): Promise<void> {
  const { count, json, ...key } = options;
  if (count === undefined) {
    const record = await withSession((session) => session.generateKey(key));
    if (json) return printJson(record);
    println(`Generated ${record.chain} key "${record.label}" inside the HSM (non-extractable).`);
    return printKey(record);
  }
  if (count > MAX_POOL_SIZE) throw makeError('USAGE', `--count is at most ${MAX_POOL_SIZE}.`);
  // A key pool: LABEL-1 … LABEL-N, so that each deposit can go to a fresh address (no xpub to derive from).
  const labels = Array.from({ length: count }, (_, i) => `${key.label}-${i + 1}`);
  const records = await withSession(async (session) => {
    const taken = (await Promise.all(labels.map((label) => session.findKey(label)))).find(Boolean)?.label;
    if (taken)
      throw makeError('KEY_LABEL_TAKEN', `A key labelled "${taken}" already exists.`, { label: taken });
    const made: KeyRecord[] = [];
    for (const label of labels) made.push(await session.generateKey({ ...key, label }));
    return made;
  });
  if (json) return printJson({ keys: records });
  println(
    `Generated ${records.length} ${key.chain} keys "${labels[0]}" … "${labels.at(-1)}" inside the HSM.`,
  );
  for (const record of records) println(`${record.label.padEnd(24)} ${record.address}`);
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
  const key = await withSession(async (session) => session.findKey(label), { unlock: false });
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
