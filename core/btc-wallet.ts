/**
 * Registered multisig wallets (policy `wallets`): an output descriptor (BIP-380/383, `multi` and
 * `sortedmulti` inside `wsh`, `sh(wsh)` or `sh`) parsed by @bitcoinerlab/descriptors into the one output
 * script it pays and the keys and threshold behind it. Pure; shared by policy/ (validation at parse time)
 * and chains/btc/ (recognising inputs and change).
 */
import type * as Descriptors from '@bitcoinerlab/descriptors';
import { payments } from 'bitcoinjs-lib';
import { toHex } from './bytes.js';
import { makeError } from './errors.js';
import type { BtcNetwork } from './signer.js';

export type WalletScriptKind = 'p2wsh-multisig' | 'p2sh-p2wsh-multisig' | 'p2sh-multisig';

export interface RegisteredWallet {
  name: string;
  network: BtcNetwork;
  descriptor: string;
  kind: WalletScriptKind;
  /** Hex scriptPubKey of the wallet's one address. */
  script: string;
  /** The multisig script (the witness script for wsh, the redeem script for bare sh). */
  multisigScript: Uint8Array;
  /** The P2SH redeem script (sh(wsh(...)) and sh(...)). */
  redeemScript?: Uint8Array;
  /** The P2WSH witness script (wsh(...) and sh(wsh(...))). */
  witnessScript?: Uint8Array;
  threshold: number;
  /** Compressed public keys, hex, in script order. */
  keys: string[];
}

/** The shapes accepted, as the library writes them once keys become @0, @1, … */
const SHAPES: Array<[RegExp, WalletScriptKind]> = [
  [/^wsh\((sorted)?multi\(\d+(,@\d+)+\)\)$/, 'p2wsh-multisig'],
  [/^sh\(wsh\((sorted)?multi\(\d+(,@\d+)+\)\)\)$/, 'p2sh-p2wsh-multisig'],
  [/^sh\((sorted)?multi\(\d+(,@\d+)+\)\)$/, 'p2sh-multisig'],
];

const MAX_DESCRIPTOR_LENGTH = 4000;

export class WalletDescriptorError extends Error {}

export type DescriptorLibrary = typeof Descriptors;

let loadLibrary: (() => DescriptorLibrary) | undefined;
let descriptorsLibrary: DescriptorLibrary | undefined;

/**
 * How @bitcoinerlab/descriptors is loaded, given by the layer that loads modules (store/descriptor-library.ts):
 * this module stays pure. Evaluating the library costs a few hundred milliseconds of curve self-tests, which
 * only a policy with registered wallets needs, so it is loaded on first use, not when a policy is read.
 */
export function provideDescriptorLibrary(load: () => DescriptorLibrary): void {
  loadLibrary ??= load;
}

/** The output descriptor library (loaded on first use; every module reaches the one instance through here). */
export function descriptorLibrary(): DescriptorLibrary {
  if (!descriptorsLibrary) {
    if (!loadLibrary) {
      throw makeError('INTERNAL', 'The output descriptor library was not provided; no wallet can be read.');
    }
    descriptorsLibrary = loadLibrary();
  }
  return descriptorsLibrary;
}

/** The @bitcoinerlab/descriptors network object of a policy network (signet shares testnet's encodings). */
export function libraryNetwork(network: BtcNetwork) {
  const { networks } = descriptorLibrary();
  if (network === 'mainnet') return networks.bitcoin;
  return network === 'regtest' ? networks.regtest : networks.testnet;
}

const parsedCache = new Map<string, RegisteredWallet>();

/**
 * Parses one wallet entry; throws WalletDescriptorError with a plain sentence when the descriptor is not a
 * fixed (non-ranged) multisig of the accepted shapes, or when its `#checksum` (BIP-380) is wrong.
 */
export function parseWalletDescriptor(
  name: string,
  descriptor: string,
  network: BtcNetwork,
): RegisteredWallet {
  const cacheKey = `${network}\u0000${name}\u0000${descriptor}`;
  const cached = parsedCache.get(cacheKey);
  if (cached) return cached;
  if (descriptor.length > MAX_DESCRIPTOR_LENGTH) {
    throw new WalletDescriptorError(`is longer than ${MAX_DESCRIPTOR_LENGTH} characters`);
  }
  if (descriptor.includes('*')) {
    throw new WalletDescriptorError('is ranged (/*); register each address as a fixed descriptor');
  }
  const { Output } = descriptorLibrary();
  let output: InstanceType<typeof Descriptors.Output>;
  try {
    // BIP-380: the library verifies the 8-character checksum after '#' when one is given.
    output = new Output({ descriptor, network: libraryNetwork(network) });
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message.split(':')[0]!.slice(0, 120) : 'unreadable';
    throw new WalletDescriptorError(`is not a valid output descriptor (${detail})`);
  }
  const { expandedExpression } = output.expand();
  const kind = SHAPES.find(([re]) => re.test(expandedExpression ?? ''))?.[1];
  if (!kind) {
    throw new WalletDescriptorError(
      'must be multi() or sortedmulti() inside wsh(), sh(wsh()) or sh() (BIP-381/383)',
    );
  }
  const witnessScript = output.getWitnessScript();
  const redeemScript = output.getRedeemScript();
  const multisigScript = kind === 'p2sh-multisig' ? redeemScript : witnessScript;
  if (!multisigScript) throw new WalletDescriptorError('has no multisig script');
  const p2ms = payments.p2ms({ output: multisigScript });
  const wallet: RegisteredWallet = {
    name,
    network,
    descriptor,
    kind,
    script: toHex(output.getScriptPubKey()),
    multisigScript,
    ...(redeemScript ? { redeemScript } : {}),
    ...(witnessScript ? { witnessScript } : {}),
    threshold: p2ms.m!,
    keys: p2ms.pubkeys!.map(toHex),
  };
  if (parsedCache.size > 1024) parsedCache.clear();
  parsedCache.set(cacheKey, wallet);
  return wallet;
}
