/** `coldsign keys generate|list|show`. */
import { writeFileSync } from 'node:fs';
import { btcAddress, btcDescriptor } from '../../chains/btc/address.js';
import { evmAddress } from '../../chains/evm/address.js';
import { bytesToHex } from '../../core/bytes.js';
import { makeError } from '../../core/errors.js';
import { compressPublicKey } from '../../core/signature.js';
import type { BtcNetwork, BtcScriptType, Chain, KeyRecord } from '../../core/signer.js';
import { withContext, withContextAndHsm } from '../context.js';
import { printJson, println } from '../output.js';

export interface GenerateOptions {
  chain: Chain;
  label: string;
  script?: BtcScriptType;
  network?: BtcNetwork;
  json?: boolean;
}

const LABEL_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export async function generateCommand(options: GenerateOptions): Promise<void> {
  if (!LABEL_RE.test(options.label)) {
    throw makeError('USAGE', 'A key label is 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit.');
  }
  if (options.chain === 'evm' && (options.script || options.network)) {
    throw makeError('USAGE', '--script and --network are for Bitcoin keys only.');
  }
  const record = await withContextAndHsm(async (context, hsm) => {
    if (context.db.findKey(options.label)) {
      throw makeError('KEY_LABEL_TAKEN', `A key labelled "${options.label}" already exists.`, { label: options.label });
    }
    const key = await hsm.keys.generate(options.label);
    const record = describeKey(options, key.publicKey, key.keyId, new Date());
    context.db.addKey(record);
    return record;
  });
  if (options.json) return printJson(record);
  println(`Generated ${record.chain} key "${record.label}" inside the HSM (non-extractable).`);
  printKey(record);
}

/** The registry record of a new key: address and descriptor for its chain. */
export function describeKey(options: GenerateOptions, publicKey: Uint8Array, keyId: string, now: Date): KeyRecord {
  const createdAt = now.toISOString();
  if (options.chain === 'evm') {
    return { label: options.label, chain: 'evm', publicKey: bytesToHex(publicKey), keyId, address: evmAddress(publicKey), createdAt };
  }
  const script = options.script ?? 'p2wpkh';
  const network = options.network ?? 'mainnet';
  const compressed = compressPublicKey(publicKey);
  return {
    label: options.label,
    chain: 'btc',
    publicKey: bytesToHex(compressed),
    keyId,
    address: btcAddress(compressed, script, network),
    network,
    script,
    descriptor: btcDescriptor(bytesToHex(compressed), script),
    createdAt,
  };
}

export async function listCommand(options: { json?: boolean }): Promise<void> {
  const keys = await withContext(async (context) => context.db.listKeys());
  if (options.json) return printJson({ keys });
  if (keys.length === 0) return println('No keys yet: create one with `coldsign keys generate --chain btc|evm --label NAME`.');
  for (const key of keys) {
    const where = key.chain === 'btc' ? `${key.network} ${key.script}` : 'evm';
    println(`${key.label.padEnd(20)} ${where.padEnd(22)} ${key.address}`);
  }
}

export async function showCommand(label: string, options: { json?: boolean; qr?: string }): Promise<void> {
  const key = await withContext(async (context) => context.db.findKey(label));
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
