/**
 * The crypto-account UR (BCR-2020-015) that QR wallets (MetaMask's QR keyring, Keystone-compatible software) import
 * to pair with a signer in "account mode": one non-derivable key per account, each with an origin path whose
 * source fingerprint names the signer. Pure: no Node built-ins.
 */
import {
  CryptoAccount,
  CryptoHDKey,
  CryptoKeypath,
  CryptoOutput,
  PathComponent,
  ScriptExpressions,
} from '@keystonehq/bc-ur-registry';
import { makeError } from '../core/errors.js';
import { fromHex, toHex } from '../core/bytes.js';
import { DEFAULT_FRAGMENT_BYTES, encodeUrParts, toBuffer, toU8 } from './ur-parts.js';

export interface PairedAccount {
  /** Compressed SEC1 public key (33 bytes). */
  publicKey: Uint8Array;
  /** BIP-32 path text, e.g. m/44'/60'/0'/0/3. */
  path: string;
}

/** BIP-32 path text → components; only the m/ form with decimal indexes and ' or h for hardened. */
export function parsePath(path: string): Array<{ index: number; hardened: boolean }> {
  const match = /^[mM]((?:\/[0-9]{1,10}['hH]?){1,10})$/.exec(path);
  if (!match) throw makeError('USAGE', `"${path.slice(0, 60)}" is not a BIP-32 path like m/44'/60'/0'/0/0.`);
  return match[1]!
    .slice(1)
    .split('/')
    .map((step) => {
      const hardened = /['hH]$/.test(step);
      const index = Number(hardened ? step.slice(0, -1) : step);
      // BIP-32: an index is below 2^31; the hardened bit is given by the apostrophe.
      if (index >= 0x80000000) throw makeError('USAGE', `The path step ${step} is out of range.`);
      return { index, hardened };
    });
}

/** The path as ERC-4527 requests write it after decoding: m/ plus steps with apostrophes. */
export function normalizePath(path: string): string {
  return `m/${parsePath(path)
    .map((c) => `${c.index}${c.hardened ? "'" : ''}`)
    .join('/')}`;
}

/** CBOR of a crypto-account: master fingerprint (4 bytes) and one pkh(hdkey) output per account (BCR-2020-015). */
export function cryptoAccountCbor(
  fingerprintHex: string,
  accounts: PairedAccount[],
  name: string,
): Uint8Array {
  if (!/^[0-9a-f]{8}$/.test(fingerprintHex))
    throw makeError('INTERNAL', 'A source fingerprint is 4 bytes of hex.');
  if (accounts.length === 0) throw makeError('KEY_NOT_FOUND', 'There is no EVM key to pair.');
  const fingerprint = toBuffer(fromHex(fingerprintHex));
  const outputs = accounts.map((account) => {
    if (account.publicKey.length !== 33)
      throw makeError('INTERNAL', 'A paired key is given as a compressed public key.');
    const origin = new CryptoKeypath(
      parsePath(account.path).map((c) => new PathComponent(c)),
      fingerprint,
    );
    // No chain code: the key is not derivable, so the wallet uses exactly this key for this account.
    const key = new CryptoHDKey({ isMaster: false, key: toBuffer(account.publicKey), origin, name });
    return new CryptoOutput([ScriptExpressions.PUBLIC_KEY_HASH], key);
  });
  return toU8(new CryptoAccount(fingerprint, outputs).toCBOR());
}

/** The crypto-account as UR parts (one part when it fits one fragment). */
export function cryptoAccountUr(
  fingerprintHex: string,
  accounts: PairedAccount[],
  name: string,
  fragmentBytes = DEFAULT_FRAGMENT_BYTES,
): string[] {
  return encodeUrParts('crypto-account', cryptoAccountCbor(fingerprintHex, accounts, name), fragmentBytes);
}

/** Reads back a crypto-account (tests and `qr decode`): fingerprint and each account's key and path. */
export function decodeCryptoAccount(cbor: Uint8Array): { fingerprint: string; accounts: PairedAccount[] } {
  try {
    const account = CryptoAccount.fromCBOR(toBuffer(cbor));
    return {
      fingerprint: toHex(toU8(account.getMasterFingerprint())),
      accounts: account.getOutputDescriptors().map((output) => {
        const key = output.getHDKey();
        return { publicKey: toU8(key.getKey()), path: `m/${key.getOrigin().getPath()}` };
      }),
    };
  } catch {
    throw makeError('UR_INVALID', 'The crypto-account UR is not valid CBOR of the BCR-2020-015 shape.');
  }
}
