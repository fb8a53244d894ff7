/**
 * EVM pairing with QR wallets (MetaMask's QR keyring, Keystone-compatible software) and the routing of their
 * ERC-4527 eth-sign-requests back to our keys. See docs/interop.md.
 *
 * coldsign keys are single HSM keys without a chain code, so the pairing is a crypto-account in account mode:
 * one non-derivable key per account, each with an origin path and the appliance's source fingerprint.
 * - fingerprint: the first 4 bytes of HASH160 of the appliance's audit public key (compressed), as BIP-32
 *   fingerprints a key; it stays the same for the life of the home.
 * - path: m/44'/60'/0'/0/<n> (BIP-44, coin type 60), n given to each EVM key once, in key order, and recorded,
 *   so a key's path never changes when keys are added.
 */
import { ripemd160 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { evmAddress, sameAddress } from '../chains/evm/address.js';
import { fromHex, toHex } from '../core/bytes.js';
import { makeError } from '../core/errors.js';
import { compressPublicKey } from '../core/signature.js';
import type { KeyRecord } from '../core/signer.js';
import type { EthSignRequestFields } from '../qr/index.js';
import type { ColdsignDb } from '../store/database.js';
import { getSetting, setSetting } from '../store/settings.js';

/** BIP-44 account path of EVM key number n (coin type 60, as MetaMask's default path). */
export const EVM_PATH_PREFIX = "m/44'/60'/0'/0/";
const INDEX_SETTING = 'evm.pairing.indexes';
const AUDIT_KEY_SETTING = 'audit.publicKey';
/** Shown as the device name in the wallet. */
export const PAIRING_NAME = 'coldsign';

export interface EvmPairedKey {
  label: string;
  address: string;
  /** Compressed SEC1 public key, hex. */
  publicKey: string;
  index: number;
  path: string;
}

export interface EvmPairing {
  /** Source fingerprint, 8 hex digits. */
  fingerprint: string;
  keys: EvmPairedKey[];
}

/** BIP-32 style fingerprint of the appliance: HASH160(compressed audit public key)[0..4]. */
export function applianceFingerprint(auditPublicKeyHex: string): string {
  const compressed = compressPublicKey(fromHex(auditPublicKeyHex));
  return toHex(ripemd160(sha256(compressed)).subarray(0, 4));
}

/**
 * Gives every EVM key without a recorded index the next free one, in key order (created time, label);
 * recorded indexes are never changed. Pure.
 */
export function assignIndexes(
  evmKeys: KeyRecord[],
  recorded: Record<string, number>,
): { indexes: Record<string, number>; changed: boolean } {
  const indexes: Record<string, number> = {};
  for (const key of evmKeys) {
    const known = recorded[key.publicKey];
    if (Number.isSafeInteger(known) && known! >= 0) indexes[key.publicKey] = known!;
  }
  let next = Math.max(-1, ...Object.values(indexes)) + 1;
  let changed = false;
  for (const key of evmKeys) {
    if (indexes[key.publicKey] !== undefined) continue;
    indexes[key.publicKey] = next++;
    changed = true;
  }
  return { indexes, changed };
}

function readRecorded(db: ColdsignDb): Record<string, number> {
  const text = getSetting(db, INDEX_SETTING);
  if (text === undefined) return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, number>;
  } catch {}
  throw makeError('STORE_CORRUPT', 'The recorded EVM pairing paths are not readable.');
}

/** The pairing of this home's EVM keys; indexes not yet given are given and recorded now. */
export function evmPairing(db: ColdsignDb): EvmPairing {
  const auditKey = getSetting(db, AUDIT_KEY_SETTING);
  if (!auditKey)
    throw makeError(
      'EVM_PAIRING_UNAVAILABLE',
      'This home has no audit key yet, so it has no pairing fingerprint: initialize it first.',
    );
  const evmKeys = db.listKeys().filter((k) => k.chain === 'evm');
  const recorded = readRecorded(db);
  const { indexes, changed } = assignIndexes(evmKeys, recorded);
  if (changed) setSetting(db, INDEX_SETTING, JSON.stringify({ ...recorded, ...indexes }));
  return {
    fingerprint: applianceFingerprint(auditKey),
    keys: evmKeys
      .map((key) => ({
        label: key.label,
        address: evmAddress(fromHex(key.publicKey)),
        publicKey: toHex(compressPublicKey(fromHex(key.publicKey))),
        index: indexes[key.publicKey]!,
        path: `${EVM_PATH_PREFIX}${indexes[key.publicKey]!}`,
      }))
      .sort((a, b) => a.index - b.index),
  };
}

/** What the review shows of a routed eth-sign-request (issue: show origin, path and fingerprint). */
export type EthSignRouting = {
  origin: string | null;
  path: string | null;
  fingerprint: string | null;
  /** Label of the key the request was routed to, or null when it names no path. */
  key: string | null;
};

/**
 * Routes an eth-sign-request to the key whose exported path and fingerprint it names (ERC-4527: the
 * derivation path carries the source fingerprint). A request whose fingerprint is not ours, whose path is not
 * one we exported, or whose address is not the key at that path is refused: it was meant for another signer.
 */
export function routeEthSignRequest(
  request: EthSignRequestFields,
  pairing: EvmPairing,
): { request: EthSignRequestFields; routing: EthSignRouting } {
  const path = request.derivationPath ? canonicalPath(request.derivationPath) : undefined;
  const fingerprint = request.sourceFingerprint?.toLowerCase();
  const routing: EthSignRouting = {
    origin: request.origin ?? null,
    path: path ?? null,
    fingerprint: fingerprint ?? null,
    key: null,
  };
  if (fingerprint !== undefined && fingerprint !== pairing.fingerprint) {
    throw makeError(
      'EVM_PAIRING_MISMATCH',
      `The request is for the signer with fingerprint ${fingerprint}; this appliance is ${pairing.fingerprint}.`,
      { fingerprint, expected: pairing.fingerprint },
    );
  }
  if (path === undefined) return { request, routing };
  const key = pairing.keys.find((k) => k.path === path);
  if (!key) {
    throw makeError(
      'EVM_PAIRING_MISMATCH',
      `The request names path ${path}, which is not the path of any EVM key this appliance exported.`,
      { path },
    );
  }
  if (request.address !== undefined && !sameAddress(request.address, key.address)) {
    throw makeError(
      'EVM_PAIRING_MISMATCH',
      `The request names path ${path} (key ${key.label}, ${key.address}) but address ${request.address}.`,
      { path, address: request.address },
    );
  }
  // evmAddress re-derives the address from the key, so a tampered registry address cannot be routed to.
  const address = evmAddress(fromHex(key.publicKey));
  return { request: { ...request, address }, routing: { ...routing, key: key.label } };
}

/** m/… with apostrophes for hardened steps; anything else is not a path we could have exported. */
function canonicalPath(path: string): string {
  const match = /^[mM]((?:\/[0-9]{1,10}['hH]?){1,10})$/.exec(path.trim());
  if (!match) return path.slice(0, 80);
  return `m${match[1]!.replace(/[hH]/g, "'")}`;
}

/** The router the pipeline calls for each eth-sign-request of this home (the pairing is read only then). */
export function ethSignRouter(
  db: ColdsignDb,
): (request: EthSignRequestFields) => { request: EthSignRequestFields; routing: EthSignRouting } {
  return (request) => routeEthSignRequest(request, evmPairing(db));
}

/** MetaMask's QR keyring lists accounts in pages of five (its connect screen reads the whole first page). */
export const WALLET_PAGE_SIZE = 5;

export interface EvmPairingExport {
  format: 'metamask' | 'keystone';
  fingerprint: string;
  keys: Array<{ label: string; address: string; path: string }>;
  /** The crypto-account UR (one part, or animated parts when large). */
  parts: string[];
  warnings: string[];
}

/**
 * The pairing export of `keys export --format metamask|keystone`: a crypto-account UR holding the named EVM keys
 * (all EVM keys when none is named). Only keys the HSM holds are ever exported: nothing is padded.
 */
export async function exportEvmPairing(
  db: ColdsignDb,
  labels: string[],
  format: 'metamask' | 'keystone',
  fragmentBytes?: number,
): Promise<EvmPairingExport> {
  const pairing = evmPairing(db);
  const chosen = labels.length === 0 ? pairing.keys : labels.map((label) => pairedKey(db, pairing, label));
  if (chosen.length === 0)
    throw makeError(
      'KEY_NOT_FOUND',
      'There is no EVM key to pair: create one with `coldsign keys generate --chain evm --label NAME`.',
    );
  const { cryptoAccountUr } = await import('../qr/index.js');
  const parts = cryptoAccountUr(
    pairing.fingerprint,
    chosen.map((k) => ({ publicKey: fromHex(k.publicKey), path: k.path })),
    PAIRING_NAME,
    fragmentBytes,
  );
  const warnings: string[] = [];
  if (format === 'metamask' && chosen.length < WALLET_PAGE_SIZE) {
    warnings.push(
      `MetaMask's "connect a QR wallet" list reads ${WALLET_PAGE_SIZE} accounts per page and fails with ` +
        `"Address not found for index ${chosen.length}" when the pairing holds fewer; pair by adding each account ` +
        `(see docs/interop.md) or generate ${WALLET_PAGE_SIZE - chosen.length} more EVM key(s) and export again.`,
    );
  }
  return {
    format,
    fingerprint: pairing.fingerprint,
    keys: chosen.map(({ label, address, path }) => ({ label, address, path })),
    parts,
    warnings,
  };
}

function pairedKey(db: ColdsignDb, pairing: EvmPairing, label: string): EvmPairedKey {
  const key = pairing.keys.find((k) => k.label === label);
  if (key) return key;
  if (db.findKey(label))
    throw makeError(
      'KEY_CHAIN_MISMATCH',
      `${label} is not an EVM key; MetaMask and Keystone pair EVM keys.`,
      {
        label,
      },
    );
  throw makeError('KEY_NOT_FOUND', `No key labelled "${label}" is registered.`, { label });
}
