/**
 * The narrow signing seam (after bitcoinjs-lib SignerAsync / Sparrow PSBTInputSigner):
 * chains compute digests; the HSM only ever sees a 32-byte digest and a key reference.
 */
import type { NormalizedSignature } from './signature.js';

export type Chain = 'btc' | 'evm';
export type BtcNetwork = 'mainnet' | 'testnet' | 'signet' | 'regtest';
export type BtcScriptType = 'p2wpkh' | 'p2sh-p2wpkh' | 'p2pkh';

/** A key held in the HSM, as registered by the appliance. Never holds private material. */
export interface KeyRecord {
  label: string;
  chain: Chain;
  /** Hex; compressed SEC1 for btc, uncompressed SEC1 (65 bytes) for evm. */
  publicKey: string;
  /** Hex CKA_ID of the HSM objects (derived from the public key). */
  keyId: string;
  address: string;
  network?: BtcNetwork;
  script?: BtcScriptType;
  descriptor?: string;
  createdAt: string;
}

export interface DigestSigner {
  /**
   * Signs a 32-byte digest with the key `keyId` inside the HSM, normalizes to low-S and verifies
   * the result against `publicKey` before returning it.
   */
  signDigest(keyId: string, publicKey: Uint8Array, digest: Uint8Array): Promise<NormalizedSignature>;
  /**
   * Optional: the HSM's raw r‖s over a 32-byte digest, neither normalized nor verified. Only for a caller that
   * verifies every signature itself before it leaves (EVM: one ecrecover to the key, chains/evm/sign.ts), so
   * that the signature is checked once, not twice.
   */
  signRaw?(keyId: string, digest: Uint8Array): Promise<Uint8Array>;
}

/** Read access to the registered keys (the key registry lives in the store). */
export interface KeyDirectory {
  listKeys(): KeyRecord[];
  findKey(label: string): KeyRecord | undefined;
  findKeyByPublicKey(publicKeyHex: string): KeyRecord | undefined;
}
