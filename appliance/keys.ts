/** Key generation as the appliance does it: inside the HSM, then registered with its address and descriptor. */
import { btcAddress, btcDescriptor } from '../chains/btc/address.js';
import { bytesToHex } from '../core/bytes.js';
import { makeError } from '../core/errors.js';
import { compressPublicKey } from '../core/signature.js';
import type { KeyRecord } from '../core/signer.js';
import type { Hsm } from '../hsm/index.js';
import type { Auditor } from '../store/audit.js';
import type { ColdsignDb } from '../store/database.js';
import { registerKey } from '../store/records.js';
import type { GenerateKeyOptions } from './api.js';

const LABEL_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export async function generateKey(
  db: ColdsignDb,
  auditor: Auditor,
  hsm: Hsm,
  options: GenerateKeyOptions,
  now: Date,
): Promise<KeyRecord> {
  if (!LABEL_RE.test(options.label)) {
    throw makeError(
      'USAGE',
      'A key label is 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit.',
    );
  }
  if (options.chain === 'evm' && (options.script || options.network)) {
    throw makeError('USAGE', 'Script type and network are for Bitcoin keys only.');
  }
  if (db.findKey(options.label)) {
    throw makeError('KEY_LABEL_TAKEN', `A key labelled "${options.label}" already exists.`, {
      label: options.label,
    });
  }
  const key = await hsm.keys.generate(options.label);
  // The EVM address code (keccak in WebAssembly, ethers) loads only when an EVM key is made, so a session that
  // signs Bitcoin never parses or compiles it.
  const evm = options.chain === 'evm' ? await import('../chains/evm/address.js') : undefined;
  const record = describeKey(options, key.publicKey, key.keyId, now, evm?.evmAddress);
  await registerKey(auditor, record, now);
  return record;
}

/**
 * The registry record of a new key: address and descriptor for its chain. An EVM key needs `evmAddress`
 * (chains/evm/address.ts, passed in so that the module is loaded only for EVM keys).
 */
export function describeKey(
  options: GenerateKeyOptions,
  publicKey: Uint8Array,
  keyId: string,
  now: Date,
  evmAddress?: (publicKey: Uint8Array) => string,
): KeyRecord {
  const createdAt = now.toISOString();
  if (options.chain === 'evm') {
    if (!evmAddress) throw new Error('describeKey: an EVM key needs the EVM address function.');
    return {
      label: options.label,
      chain: 'evm',
      publicKey: bytesToHex(publicKey),
      keyId,
      address: evmAddress(publicKey),
      createdAt,
    };
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
