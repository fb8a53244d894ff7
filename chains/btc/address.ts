/** Addresses and output descriptors of single-key Bitcoin scripts (pure). */
import { payments } from 'bitcoinjs-lib';
import { makeError } from '../../core/errors.js';
import { compressPublicKey } from '../../core/signature.js';
import type { BtcNetwork, BtcScriptType } from '../../core/signer.js';
import { fromHex, isHex, toHex } from '../../core/bytes.js';
import { networkParams } from './network.js';

export const BTC_SCRIPT_TYPES: readonly BtcScriptType[] = ['p2wpkh', 'p2sh-p2wpkh', 'p2pkh'];

/** A valid compressed secp256k1 key (BIP-143: segwit v0 only accepts compressed keys in P2WPKH). */
function compressedKey(publicKey: Uint8Array): Uint8Array {
  try {
    return compressPublicKey(publicKey);
  } catch (cause) {
    throw makeError('KEY_CHAIN_MISMATCH', 'The public key is not a valid secp256k1 key.', {}, cause);
  }
}

/** The output script paying `publicKey` with the given single-key script type. */
export function btcOutputScript(publicKey: Uint8Array, script: BtcScriptType): Uint8Array {
  const pubkey = compressedKey(publicKey);
  switch (script) {
    case 'p2wpkh': // BIP-141: OP_0 <hash160(pubkey)>
      return payments.p2wpkh({ pubkey }).output!;
    case 'p2sh-p2wpkh': // BIP-141 nested: OP_HASH160 <hash160(p2wpkh script)> OP_EQUAL
      return payments.p2sh({ redeem: payments.p2wpkh({ pubkey }) }).output!;
    case 'p2pkh':
      return payments.p2pkh({ pubkey }).output!;
  }
}

/** The address of `publicKey` for a script type and network (bech32 per BIP-173, base58check otherwise). */
export function btcAddress(publicKey: Uint8Array, script: BtcScriptType, network: BtcNetwork): string {
  const pubkey = compressedKey(publicKey);
  const params = networkParams(network);
  let address: string | undefined;
  switch (script) {
    case 'p2wpkh':
      address = payments.p2wpkh({ pubkey, network: params }).address;
      break;
    case 'p2sh-p2wpkh':
      address = payments.p2sh({
        redeem: payments.p2wpkh({ pubkey, network: params }),
        network: params,
      }).address;
      break;
    case 'p2pkh':
      address = payments.p2pkh({ pubkey, network: params }).address;
      break;
    default:
      throw makeError('USAGE', `Unknown Bitcoin script type "${String(script)}".`);
  }
  if (!address) throw makeError('INTERNAL', 'No address could be derived for the key.');
  return address;
}

/** The output descriptor of the key (BIP-380/381/382: pkh(), sh(wpkh()), wpkh()), without checksum. */
export function btcDescriptor(publicKeyHex: string, script: BtcScriptType): string {
  if (!isHex(publicKeyHex) || publicKeyHex.startsWith('0x')) {
    throw makeError('KEY_CHAIN_MISMATCH', 'The public key is not a hex string.');
  }
  const pk = toHex(compressedKey(fromHex(publicKeyHex)));
  switch (script) {
    case 'p2wpkh':
      return `wpkh(${pk})`;
    case 'p2sh-p2wpkh':
      return `sh(wpkh(${pk}))`;
    case 'p2pkh':
      return `pkh(${pk})`;
    default:
      throw makeError('USAGE', `Unknown Bitcoin script type "${String(script)}".`);
  }
}
