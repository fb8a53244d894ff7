import { describe, expect, it } from 'vitest';
import * as scure from '@scure/btc-signer';
import { btcAddress, btcDescriptor, btcOutputScript } from '../../chains/btc/address.js';
import { fromHex, toHex } from '../../core/bytes.js';
import { isColdsignError } from '../../core/errors.js';
import { uncompressPublicKey } from '../../core/signature.js';

// The generator point G (private key 1): BIP-173's example key.
const G = '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798';

describe('btcAddress', () => {
  it('matches the BIP-173 P2WPKH examples for mainnet and testnet', () => {
    expect(btcAddress(fromHex(G), 'p2wpkh', 'mainnet')).toBe('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4');
    expect(btcAddress(fromHex(G), 'p2wpkh', 'testnet')).toBe('tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx');
    expect(btcAddress(fromHex(G), 'p2wpkh', 'signet')).toBe('tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx');
    expect(btcAddress(fromHex(G), 'p2wpkh', 'regtest')).toMatch(/^bcrt1q/);
  });

  it('agrees with @scure/btc-signer for every script type and network', () => {
    const nets = { mainnet: scure.NETWORK, testnet: scure.TEST_NETWORK, signet: scure.TEST_NETWORK } as const;
    for (const [name, net] of Object.entries(nets)) {
      const network = name as keyof typeof nets;
      const pk = fromHex(G);
      expect(btcAddress(pk, 'p2wpkh', network)).toBe(scure.p2wpkh(pk, net).address);
      expect(btcAddress(pk, 'p2sh-p2wpkh', network)).toBe(scure.p2sh(scure.p2wpkh(pk, net), net).address);
      expect(btcAddress(pk, 'p2pkh', network)).toBe(scure.p2pkh(pk, net).address);
      expect(toHex(btcOutputScript(pk, 'p2sh-p2wpkh'))).toBe(
        toHex(scure.p2sh(scure.p2wpkh(pk, net), net).script),
      );
    }
  });

  it('compresses an uncompressed key first', () => {
    const full = uncompressPublicKey(fromHex(G));
    expect(btcAddress(full, 'p2pkh', 'mainnet')).toBe(btcAddress(fromHex(G), 'p2pkh', 'mainnet'));
  });

  it('rejects a point not on the curve with a stable code', () => {
    const bad = fromHex(G);
    bad[0] = 0x05; // no SEC1 prefix 0x05 exists
    let caught: unknown;
    try {
      btcAddress(bad, 'p2wpkh', 'mainnet');
    } catch (error) {
      caught = error;
    }
    expect(isColdsignError(caught, 'KEY_CHAIN_MISMATCH')).toBe(true);
  });
});

describe('btcDescriptor', () => {
  it('writes BIP-380 descriptors for each script type', () => {
    expect(btcDescriptor(G, 'p2wpkh')).toBe(`wpkh(${G})`);
    expect(btcDescriptor(G, 'p2sh-p2wpkh')).toBe(`sh(wpkh(${G}))`);
    expect(btcDescriptor(G, 'p2pkh')).toBe(`pkh(${G})`);
  });
  it('rejects non-hex input with a stable code', () => {
    expect(() => btcDescriptor('zz', 'p2wpkh')).toThrow(
      expect.objectContaining({ code: 'KEY_CHAIN_MISMATCH' }),
    );
  });
});
