/**
 * Watch-only exports of the appliance's Bitcoin keys (docs/interop.md): output descriptors with their
 * BIP-380 checksums, Bitcoin Core `importdescriptors` requests, Electrum's imported-address list, the public
 * keys Caravan's address page takes, and the crypto-output / crypto-account UR (BCR-2020-010 / -015).
 * Every key is a single HSM key: there is no chain code and so no xpub to export.
 */
import { CryptoAccount, CryptoECKey, CryptoOutput, ScriptExpressions } from '@keystonehq/bc-ur-registry';
import { crypto as bcrypto } from 'bitcoinjs-lib';
import { descriptorLibrary } from '../core/btc-wallet.js';
import { fromHex } from '../core/bytes.js';
import { makeError } from '../core/errors.js';
import type { BtcNetwork, BtcScriptType, KeyRecord } from '../core/signer.js';
import { checkFitsAnimatedQr } from '../qr/ur-parts.js';
import '../store/descriptor-library.js';

/** The Bitcoin keys of an export: all of one network (wallets hold one network each). */
export function btcExportKeys(keys: KeyRecord[]): KeyRecord[] {
  const btc = keys.filter((k) => k.chain === 'btc');
  if (btc.length === 0) {
    throw makeError(
      'KEY_NOT_FOUND',
      'There is no Bitcoin key to export: create one with `coldsign keys generate --chain btc`.',
    );
  }
  if (btc.length !== keys.length) {
    throw makeError('KEY_CHAIN_MISMATCH', 'This export format is for Bitcoin keys; leave the EVM keys out.');
  }
  const networks = new Set(btc.map(networkOf));
  if (networks.size > 1) {
    throw makeError('USAGE', 'The keys are on different Bitcoin networks; export one network at a time.');
  }
  return btc;
}

const networkOf = (key: KeyRecord): BtcNetwork => key.network ?? 'mainnet';

/** BIP-380: `SCRIPT#CHECKSUM`, the checksum computed by @bitcoinerlab/descriptors. */
export async function withChecksum(descriptor: string): Promise<string> {
  return `${descriptor}#${descriptorLibrary().checksum(descriptor)}`;
}

/** The key's descriptor (BIP-381 pkh, BIP-382 wpkh, sh(wpkh)) with its checksum. */
export async function keyDescriptor(key: KeyRecord): Promise<string> {
  if (!key.descriptor) throw makeError('INTERNAL', `Key "${key.label}" has no descriptor.`);
  return withChecksum(key.descriptor);
}

/** One descriptor per line, as Sparrow, Specter, Core's `getdescriptorinfo` and @bitcoinerlab read them. */
export async function descriptorLines(keys: KeyRecord[]): Promise<string> {
  const lines = await Promise.all(btcExportKeys(keys).map(keyDescriptor));
  return `${lines.join('\n')}\n`;
}

/**
 * Bitcoin Core `importdescriptors` request (into a wallet made with disable_private_keys=true): one
 * non-ranged descriptor per key, its label, and its creation time as the rescan start (no payment to the
 * key can be older than the key).
 */
export async function coreImportRequest(keys: KeyRecord[]): Promise<string> {
  const requests = await Promise.all(
    btcExportKeys(keys).map(async (key) => ({
      desc: await keyDescriptor(key),
      timestamp: Math.floor(Date.parse(key.createdAt) / 1000),
      label: key.label,
    })),
  );
  return `${JSON.stringify(requests, null, 2)}\n`;
}

/** Electrum's "Import Bitcoin addresses" (an imported-address, watch-only wallet): one address a line. */
export function electrumAddresses(keys: KeyRecord[]): string {
  return `${btcExportKeys(keys)
    .map((k) => k.address)
    .join('\n')}\n`;
}

/** Caravan's address type names (its `P2SH`, `P2SH-P2WSH`, `P2WSH`) for the multisig built from these keys. */
export interface CaravanKeyList {
  format: 'coldsign-caravan-public-keys';
  network: 'mainnet' | 'testnet' | 'regtest' | 'signet';
  /** Compressed public keys as Caravan's "Create address" page (and @caravan/bitcoin's
   *  generateMultisigFromPublicKeys) takes them; no xpub exists for a single HSM key. */
  publicKeys: { name: string; publicKey: string; script: BtcScriptType }[];
}

export function caravanPublicKeys(keys: KeyRecord[]): string {
  const btc = btcExportKeys(keys);
  const document: CaravanKeyList = {
    format: 'coldsign-caravan-public-keys',
    network: networkOf(btc[0]!),
    publicKeys: btc.map((k) => ({ name: k.label, publicKey: k.publicKey, script: k.script ?? 'p2wpkh' })),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** A fingerprint for a set of single keys (no BIP-32 master exists): hash160 of the sorted keys, 4 bytes. */
export function keySetFingerprint(keys: KeyRecord[]): Uint8Array {
  const sorted = keys.map((k) => k.publicKey).sort();
  return bcrypto.hash160(fromHex(sorted.join(''))).subarray(0, 4);
}

/**
 * UR parts of the keys: a crypto-output (BCR-2020-010: script expressions around a crypto-eckey) for one
 * key, a crypto-account (BCR-2020-015) of such outputs for several, with keySetFingerprint as its
 * master fingerprint.
 */
export async function keysToUr(
  keys: KeyRecord[],
  fragmentBytes: number,
): Promise<{ type: string; parts: string[] }> {
  const btc = btcExportKeys(keys);
  const expressions = (script: BtcScriptType) => {
    switch (script) {
      case 'p2wpkh':
        return [ScriptExpressions.WITNESS_PUBLIC_KEY_HASH];
      case 'p2sh-p2wpkh':
        return [ScriptExpressions.SCRIPT_HASH, ScriptExpressions.WITNESS_PUBLIC_KEY_HASH];
      case 'p2pkh':
        return [ScriptExpressions.PUBLIC_KEY_HASH];
    }
  };
  const outputs = btc.map(
    (k) =>
      new CryptoOutput(
        expressions(k.script ?? 'p2wpkh'),
        new CryptoECKey({ data: Buffer.from(fromHex(k.publicKey)) }),
      ),
  );
  const item =
    outputs.length === 1 ? outputs[0]! : new CryptoAccount(Buffer.from(keySetFingerprint(btc)), outputs);
  const encoder = item.toUREncoder(fragmentBytes);
  checkFitsAnimatedQr(encoder.messageLength, fragmentBytes);
  const parts = Array.from({ length: encoder.fragmentsLength }, () => encoder.nextPart());
  return { type: outputs.length === 1 ? 'crypto-output' : 'crypto-account', parts };
}

/** BIP-380 `descsum_check`: `SCRIPT#CHECKSUM` with eight checksum characters that match the script. */
export async function hasValidChecksum(descriptor: string): Promise<boolean> {
  const at = descriptor.length - 9;
  if (at < 0 || descriptor[at] !== '#') return false;
  try {
    return descriptorLibrary().checksum(descriptor.slice(0, at)) === descriptor.slice(at + 1);
  } catch {
    return false; // a character outside BIP-380's INPUT_CHARSET
  }
}
