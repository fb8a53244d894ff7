/** Bitcoin network parameters (pure): the SPEC network names mapped to bitcoinjs-lib's address parameters. */
import { networks, type Network } from 'bitcoinjs-lib';
import type { BtcNetwork } from '../../core/signer.js';

export const BTC_NETWORKS: readonly BtcNetwork[] = ['mainnet', 'testnet', 'signet', 'regtest'];

/** Signet shares testnet's address prefixes (BIP-325: same bech32 HRP "tb" and base58 versions). */
export function networkParams(network: BtcNetwork): Network {
  switch (network) {
    case 'mainnet':
      return networks.bitcoin;
    case 'testnet':
    case 'signet':
      return networks.testnet;
    case 'regtest':
      return networks.regtest;
  }
}
