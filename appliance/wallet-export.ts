/**
 * Exports of a registered multisig wallet (policy `wallets`, docs/interop.md): the descriptor with its
 * BIP-380 checksum, a Caravan wallet configuration (JSON) and a BIP-129 (BSMS) descriptor record. Pure
 * functions over plain data: the caller reads the policy and writes the file.
 */
import {
  descriptorLibrary,
  libraryNetwork,
  parseWalletDescriptor,
  type WalletScriptKind,
} from '../core/btc-wallet.js';
import { toHex } from '../core/bytes.js';
import { makeError } from '../core/errors.js';
import type { BtcNetwork } from '../core/signer.js';
import type { PolicyDocument, PolicyWallet } from '../policy/schema.js';
import '../store/descriptor-library.js';

export const WALLET_EXPORT_FORMATS = ['descriptor', 'caravan', 'bsms'] as const;
export type WalletExportFormat = (typeof WALLET_EXPORT_FORMATS)[number];

/** Caravan's names for the three multisig address types. */
export const CARAVAN_ADDRESS_TYPES: Record<WalletScriptKind, 'P2WSH' | 'P2SH-P2WSH' | 'P2SH'> = {
  'p2wsh-multisig': 'P2WSH',
  'p2sh-p2wsh-multisig': 'P2SH-P2WSH',
  'p2sh-multisig': 'P2SH',
};

/** BIP-129: the first line of every BSMS record. */
export const BSMS_VERSION = 'BSMS 1.0';
/** BIP-129: the path-restrictions line of a descriptor that derives nothing. */
export const BSMS_NO_PATH_RESTRICTIONS = 'No path restrictions';

/** A key of a wallet descriptor as @bitcoinerlab/descriptors expands it. */
export interface WalletKeyInfo {
  pubkey: string;
  /** Base58 extended key, when the descriptor gives one. */
  xpub?: string;
  /** Master fingerprint of the key origin (8 hex), when given. */
  fingerprint?: string;
  /** Origin path from the master, like "/48'/1'/0'/2'" (BIP-380 key origin), when given. */
  originPath?: string;
  /** Derivation after the extended key, like "/0/5". */
  keyPath?: string;
}

export function findWallet(policy: PolicyDocument | null, name: string): PolicyWallet {
  const wallet = policy?.wallets?.find((w) => w.name === name);
  if (!wallet) {
    const known = policy?.wallets?.map((w) => w.name) ?? [];
    throw makeError(
      'WALLET_NOT_FOUND',
      known.length > 0
        ? `No registered wallet is named "${name}"; the policy in force registers ${known.map((n) => `"${n}"`).join(', ')}.`
        : `No registered wallet is named "${name}": the policy in force registers no wallet.`,
    );
  }
  return wallet;
}

/** BIP-380: the descriptor without any `#checksum`, then `#` and the checksum computed afresh. */
export function descriptorWithChecksum(descriptor: string): string {
  const body = descriptor.split('#')[0]!;
  return `${body}#${descriptorLibrary().checksum(body)}`;
}

function expandWallet(wallet: PolicyWallet) {
  const { Output } = descriptorLibrary();
  const output = new Output({ descriptor: wallet.descriptor, network: libraryNetwork(wallet.network) });
  return { output, expansion: output.expand() };
}

/** The wallet's one address (its descriptor derives nothing). */
export function walletAddress(wallet: PolicyWallet): string {
  return expandWallet(wallet).output.getAddress();
}

/** The wallet's keys in descriptor order, as the library expands them. */
export function walletKeys(wallet: PolicyWallet): WalletKeyInfo[] {
  const map = expandWallet(wallet).expansion.expansionMap ?? {};
  return Object.keys(map)
    .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))
    .map((id) => {
      const info = map[id]!;
      return {
        pubkey: toHex(info.pubkey!),
        ...(info.xPub ? { xpub: info.xPub } : {}),
        ...(info.masterFingerprint ? { fingerprint: toHex(info.masterFingerprint) } : {}),
        ...(info.originPath !== undefined ? { originPath: info.originPath } : {}),
        ...(info.keyPath !== undefined ? { keyPath: info.keyPath } : {}),
      };
    });
}

/** Caravan's wallet configuration, the JSON its "Import wallet configuration" reads. */
export interface CaravanWalletConfig {
  name: string;
  addressType: 'P2WSH' | 'P2SH-P2WSH' | 'P2SH';
  network: BtcNetwork;
  client: { type: 'public' };
  quorum: { requiredSigners: number; totalSigners: number };
  extendedPublicKeys: Array<{ name: string; bip32Path: string; xpub: string; xfp?: string }>;
  startingAddressIndex: number;
}

function unsupported(wallet: PolicyWallet, why: string): never {
  throw makeError(
    'WALLET_EXPORT_UNSUPPORTED',
    `Wallet "${wallet.name}" cannot be written as a Caravan configuration: ${why}; export it with --format descriptor or bsms.`,
  );
}

/**
 * Caravan's model is a BIP-67 sorted multisig of extended public keys, each watched along
 * XPUB/0/i (receive) and XPUB/1/i (change). A registered wallet maps onto it when it is `sortedmulti`
 * of extended keys all derived at the same receive index `/0/N`: N becomes `startingAddressIndex`.
 */
export function caravanConfig(wallet: PolicyWallet): CaravanWalletConfig {
  const parsed = parseWalletDescriptor(wallet.name, wallet.descriptor, wallet.network);
  if (!/(^|\()sortedmulti\(/.test(wallet.descriptor)) {
    unsupported(wallet, 'Caravan always sorts the keys (BIP-67), and this descriptor uses multi()');
  }
  const keys = walletKeys(wallet);
  if (keys.some((k) => !k.xpub)) {
    unsupported(
      wallet,
      'Caravan needs an extended public key (xpub) for every key, and a single key (such as a coldsign HSM key) has none',
    );
  }
  const indexes = new Set(keys.map((k) => /^\/0\/(\d+)$/.exec(k.keyPath ?? '')?.[1] ?? 'other'));
  const [index] = [...indexes];
  if (indexes.size !== 1 || index === 'other') {
    unsupported(
      wallet,
      'every key must be derived at the same receive index, XPUB/0/N, as Caravan derives them',
    );
  }
  return {
    name: wallet.name,
    addressType: CARAVAN_ADDRESS_TYPES[parsed.kind],
    network: wallet.network,
    client: { type: 'public' },
    quorum: { requiredSigners: parsed.threshold, totalSigners: keys.length },
    extendedPublicKeys: keys.map((k, i) => ({
      name: `${wallet.name} key ${i + 1}`,
      bip32Path: k.originPath !== undefined && k.fingerprint ? `m${k.originPath}` : 'Unknown',
      xpub: k.xpub!,
      ...(k.fingerprint ? { xfp: k.fingerprint } : {}),
    })),
    startingAddressIndex: Number(index),
  };
}

/** BIP-129 descriptor record: version, descriptor with checksum, path restrictions, first address. */
export function bsmsRecord(wallet: PolicyWallet): string {
  return [
    BSMS_VERSION,
    descriptorWithChecksum(wallet.descriptor),
    BSMS_NO_PATH_RESTRICTIONS,
    walletAddress(wallet),
  ].join('\n');
}

/** The file `coldsign wallets export NAME --format F` writes. */
export function exportWallet(wallet: PolicyWallet, format: WalletExportFormat): string {
  if (format === 'descriptor') return `${descriptorWithChecksum(wallet.descriptor)}\n`;
  if (format === 'caravan') return `${JSON.stringify(caravanConfig(wallet), null, 2)}\n`;
  return `${bsmsRecord(wallet)}\n`;
}
