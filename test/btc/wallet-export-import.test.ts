// Registered-wallet export (descriptor, Caravan configuration, BIP-129 BSMS record) and import into a policy
// draft (appliance/wallet-export.ts, appliance/wallet-import.ts). Round trips, each export read by an
// independent library (@caravan/bitcoin derives the Caravan wallet's address from its own braid,
// @bitcoinerlab/descriptors and @scure/btc-signer the BSMS record's first address), and hostile imports refused
// with their codes.
import { describe, expect, it } from 'vitest';
import * as descriptors from '@bitcoinerlab/descriptors';
import {
  deriveMultisigByIndex,
  ExtendedPublicKey,
  generateBraid,
  multisigAddress,
  validateBIP32Path,
  validateExtendedPublicKey,
  validateRootFingerprint,
  type MultisigAddressType,
} from '@caravan/bitcoin';
import type { MultisigWalletConfig } from '@caravan/multisig';
import * as btc from '@scure/btc-signer';
import { caravanConfig, exportWallet, walletAddress } from '../../appliance/wallet-export.js';
import { draftWithWallet, readCoordinatorWallet } from '../../appliance/wallet-import.js';
import { isColdsignError } from '../../core/errors.js';
import { parseWalletDescriptor } from '../../core/btc-wallet.js';
import type { PolicyDocument, PolicyWallet } from '../../policy/schema.js';
import { throwaway } from '../adversarial/btc/support.js';

const { BIP32, Output } = descriptors.DescriptorsFactory(descriptors.ecc);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const WRAP = {
  P2WSH: (m: string) => `wsh(${m})`,
  'P2SH-P2WSH': (m: string) => `sh(wsh(${m}))`,
  P2SH: (m: string) => `sh(${m})`,
} as const;
const TYPES = Object.keys(WRAP) as (keyof typeof WRAP)[];

/** Three single keys (what coldsign HSM keys are): hex public keys. */
const singleKeys = [1, 2, 3].map((seed) => hex(throwaway(seed).pub));
const hexWallet = (type: keyof typeof WRAP, network: PolicyWallet['network'] = 'regtest'): PolicyWallet => ({
  name: `treasury ${type}`,
  network,
  descriptor: WRAP[type](`sortedmulti(2,${singleKeys.join(',')})`),
});

/** The audit public key naming the appliance a draft is for (the schema checks its form only). */
const APPLIANCE = `02${'11'.repeat(32)}`;
/** Three BIP-48 account xpubs (m/48'/1'/0'/2') from fixed seeds, with their origins, at receive index `index`. */
const roots = [7, 8, 9].map((seed) => BIP32.fromSeed(Buffer.alloc(32, seed), descriptors.networks.testnet));
const xpubKeys = (index: number) =>
  roots.map(
    (root) =>
      `[${hex(root.fingerprint)}/48'/1'/0'/2']${root.derivePath("m/48'/1'/0'/2'").neutered().toBase58()}/0/${index}`,
  );
const xpubWallet = (type: keyof typeof WRAP, index = 5): PolicyWallet => ({
  name: `vault-${type}`,
  network: 'testnet',
  descriptor: WRAP[type](`sortedmulti(2,${xpubKeys(index).join(',')})`),
});

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (isColdsignError(error)) return error.code;
    throw error;
  }
  return 'no error';
}

const sameWallet = (a: PolicyWallet, b: PolicyWallet) => {
  expect(b.network).toBe(a.network);
  expect(parseWalletDescriptor(b.name, b.descriptor, b.network).script).toBe(
    parseWalletDescriptor(a.name, a.descriptor, a.network).script,
  );
  expect(b.descriptor.split('#')[0]).toBe(a.descriptor.split('#')[0]);
};

describe('round trip: export then import gives the same wallet', () => {
  for (const type of TYPES) {
    it(`descriptor and BSMS of a single-key ${type} wallet`, () => {
      const wallet = hexWallet(type);
      const viaDescriptor = readCoordinatorWallet(exportWallet(wallet, 'descriptor'), {
        name: wallet.name,
        network: wallet.network,
      });
      sameWallet(wallet, viaDescriptor.wallet);
      const viaBsms = readCoordinatorWallet(exportWallet(wallet, 'bsms'), {
        name: wallet.name,
        network: 'regtest',
      });
      sameWallet(wallet, viaBsms.wallet);
      expect(viaBsms.address).toBe(walletAddress(wallet));
    });

    it(`Caravan configuration of an xpub ${type} wallet (name, network and index from the file)`, () => {
      const wallet = xpubWallet(type);
      const back = readCoordinatorWallet(exportWallet(wallet, 'caravan'));
      expect(back.format).toBe('caravan');
      expect(back.wallet.name).toBe(wallet.name);
      sameWallet(wallet, back.wallet);
    });
  }

  it('the draft holds the policy in force plus the wallet, the next version, this appliance and no signatures', () => {
    const current: PolicyDocument = {
      version: 4,
      rules: [{ id: 'r', chain: 'btc', network: 'regtest', anyDestination: true } as never],
      wallets: [hexWallet('P2WSH')],
      signatures: [{ officer: 'alice', signature: `${'A'.repeat(86)}==` }],
    };
    const added = readCoordinatorWallet(exportWallet(xpubWallet('P2SH'), 'caravan')).wallet;
    const draft = draftWithWallet(current, added, APPLIANCE);
    expect(draft.version).toBe(5);
    expect(draft.appliance).toBe(APPLIANCE);
    expect(draft.signatures).toBeUndefined();
    expect(draft.rules).toEqual(current.rules);
    expect(draft.wallets!.map((w) => w.name)).toEqual(['treasury P2WSH', 'vault-P2SH']);
    expect(draftWithWallet(null, added, APPLIANCE).version).toBe(1);
  });
});

describe('Caravan configuration, read by @caravan/bitcoin', () => {
  for (const type of TYPES) {
    it(`${type}: Caravan's own braid at startingAddressIndex pays the registered address`, () => {
      const wallet = xpubWallet(type, 11);
      const config: MultisigWalletConfig & { startingAddressIndex: number } = JSON.parse(
        exportWallet(wallet, 'caravan'),
      );
      expect(config.addressType).toBe(type);
      expect(config.quorum).toEqual({ requiredSigners: 2, totalSigners: 3 });
      expect(config.startingAddressIndex).toBe(11);
      const xpubs = config.extendedPublicKeys.map((k) => {
        expect(validateExtendedPublicKey(k.xpub, config.network)).toBe('');
        expect(validateBIP32Path(k.bip32Path)).toBe('');
        expect(() => validateRootFingerprint(k.xfp)).not.toThrow();
        const key = ExtendedPublicKey.fromBase58(k.xpub);
        key.setRootFingerprint(k.xfp);
        key.setBip32Path(k.bip32Path);
        key.addBase58String();
        return key;
      });
      const braid = generateBraid(
        config.network,
        config.addressType as MultisigAddressType,
        xpubs,
        config.quorum.requiredSigners,
        '0',
      );
      const address = multisigAddress(deriveMultisigByIndex(braid, config.startingAddressIndex));
      expect(address).toBe(walletAddress(wallet));
      expect(address).toBe(
        new Output({ descriptor: wallet.descriptor, network: descriptors.networks.testnet }).getAddress(),
      );
    });
  }

  it('a Caravan configuration imported at another index registers that address of the braid', () => {
    const text = exportWallet(xpubWallet('P2WSH', 0), 'caravan');
    const at7 = readCoordinatorWallet(text, { index: 7 });
    expect(at7.address).toBe(walletAddress(xpubWallet('P2WSH', 7)));
    expect(at7.address).not.toBe(walletAddress(xpubWallet('P2WSH', 0)));
  });

  it('a wallet of single keys (no xpub) or of multi() cannot be a Caravan configuration', () => {
    expect(codeOf(() => caravanConfig(hexWallet('P2WSH')))).toBe('WALLET_EXPORT_UNSUPPORTED');
    const unsorted = {
      ...xpubWallet('P2WSH'),
      descriptor: xpubWallet('P2WSH').descriptor.replace('sortedmulti', 'multi'),
    };
    expect(codeOf(() => caravanConfig(unsorted))).toBe('WALLET_EXPORT_UNSUPPORTED');
    const mixed = {
      ...xpubWallet('P2WSH'),
      descriptor: `wsh(sortedmulti(2,${xpubKeys(1)[0]},${xpubKeys(2)[1]},${xpubKeys(1)[2]}))`,
    };
    expect(codeOf(() => caravanConfig(mixed))).toBe('WALLET_EXPORT_UNSUPPORTED');
  });
});

describe('BIP-129 BSMS descriptor record', () => {
  for (const type of TYPES) {
    it(`${type}: four lines; the first address is the descriptor's, by @bitcoinerlab and @scure/btc-signer`, () => {
      const wallet = hexWallet(type);
      const text = exportWallet(wallet, 'bsms');
      const lines = text.split('\n');
      expect(lines.at(-1)).toBe('');
      const [version, descriptor, restrictions, first] = lines;
      expect(version).toBe('BSMS 1.0');
      expect(restrictions).toBe('No path restrictions');
      const parsed = new Output({
        descriptor: descriptor!,
        network: descriptors.networks.regtest,
        checksumRequired: true,
      });
      expect(parsed.getAddress()).toBe(first);
      const sorted = singleKeys.map((k) => Buffer.from(k, 'hex')).sort(Buffer.compare);
      const ms = btc.p2ms(2, sorted);
      const net = { ...btc.TEST_NETWORK, bech32: 'bcrt' };
      const scure = {
        P2WSH: btc.p2wsh(ms, net),
        'P2SH-P2WSH': btc.p2sh(btc.p2wsh(ms), net),
        P2SH: btc.p2sh(ms, net),
      }[type];
      expect(first).toBe(scure.address);
    });
  }

  it('a ranged record (/**) is checked at index 0 and registered at --index', () => {
    const ranged = `wsh(sortedmulti(2,${xpubKeys(0)
      .map((k) => k.replace('/0/0', '/**'))
      .join(',')}))`;
    const record = `BSMS 1.0\n${ranged}#${descriptors.checksum(ranged)}\n/0/*,/1/*\n${walletAddress(xpubWallet('P2WSH', 0))}\n`;
    expect(readCoordinatorWallet(record, { name: 'r' }).address).toBe(walletAddress(xpubWallet('P2WSH', 0)));
    expect(readCoordinatorWallet(record, { name: 'r', index: 3 }).address).toBe(
      walletAddress(xpubWallet('P2WSH', 3)),
    );
  });
});

describe('hostile or malformed imports are refused with a code', () => {
  const good = hexWallet('P2WSH');
  const bsms = exportWallet(good, 'bsms');
  const caravan = JSON.parse(exportWallet(xpubWallet('P2WSH'), 'caravan')) as Record<string, unknown>;
  const otherAddress = walletAddress(hexWallet('P2SH-P2WSH'));
  const cases: Array<[string, string, object, string]> = [
    [
      'a descriptor whose checksum was altered',
      exportWallet(good, 'descriptor').replace(/#(.)/, (_, c) => `#${c === 'a' ? 'b' : 'a'}`),
      { name: 'x', network: 'regtest' },
      'WALLET_IMPORT_INVALID',
    ],
    [
      'a single-key descriptor',
      `wpkh(${singleKeys[0]})`,
      { name: 'x', network: 'regtest' },
      'WALLET_IMPORT_INVALID',
    ],
    [
      'a taproot descriptor',
      `tr(${singleKeys[0]!.slice(2)})`,
      { name: 'x', network: 'regtest' },
      'WALLET_IMPORT_INVALID',
    ],
    [
      'a ranged descriptor without --index',
      good.descriptor.replace(singleKeys[0]!, xpubKeys(0)[0]!.replace('/0/0', '/0/*')),
      { name: 'x', network: 'testnet' },
      'WALLET_IMPORT_INVALID',
    ],
    [
      'a hardened wildcard',
      xpubWallet('P2WSH').descriptor.replace('/0/5', "/0/*'"),
      { name: 'x', index: 1 },
      'WALLET_IMPORT_INVALID',
    ],
    ['hex keys and no network', good.descriptor, { name: 'x' }, 'WALLET_IMPORT_INVALID'],
    ['no name', good.descriptor, { network: 'regtest' }, 'WALLET_IMPORT_INVALID'],
    ['a name with a newline', good.descriptor, { name: 'a\nb', network: 'regtest' }, 'WALLET_IMPORT_INVALID'],
    [
      'two descriptors on two lines',
      `${good.descriptor}\n${good.descriptor}`,
      { name: 'x', network: 'regtest' },
      'WALLET_IMPORT_INVALID',
    ],
    [
      "a BSMS record whose first address is another wallet's",
      bsms.replace(walletAddress(good), otherAddress),
      { name: 'x' },
      'WALLET_IMPORT_INVALID',
    ],
    [
      'a BSMS record of another version',
      bsms.replace('BSMS 1.0', 'BSMS 2.0'),
      { name: 'x' },
      'WALLET_IMPORT_INVALID',
    ],
    ['a BSMS record with a fifth line', `${bsms}extra\n`, { name: 'x' }, 'WALLET_IMPORT_INVALID'],
    [
      'a BSMS record with odd path restrictions',
      bsms.replace('No path restrictions', '/0/*; rm -rf'),
      { name: 'x' },
      'WALLET_IMPORT_INVALID',
    ],
    [
      'a BSMS record for mainnet claimed as testnet',
      exportWallet(hexWallet('P2WSH', 'mainnet'), 'bsms'),
      { name: 'x', network: 'testnet' },
      'WALLET_IMPORT_INVALID',
    ],
    [
      'a Caravan configuration without quorum',
      JSON.stringify({ ...caravan, quorum: undefined }),
      {},
      'WALLET_IMPORT_INVALID',
    ],
    [
      'a Caravan configuration whose totalSigners disagrees',
      JSON.stringify({ ...caravan, quorum: { requiredSigners: 2, totalSigners: 4 } }),
      {},
      'WALLET_IMPORT_INVALID',
    ],
    [
      'a Caravan configuration needing 4 of 3',
      JSON.stringify({ ...caravan, quorum: { requiredSigners: 4, totalSigners: 3 } }),
      {},
      'WALLET_IMPORT_INVALID',
    ],
    [
      'a Caravan configuration of P2TR',
      JSON.stringify({ ...caravan, addressType: 'P2TR' }),
      {},
      'WALLET_IMPORT_INVALID',
    ],
    [
      'a Caravan configuration on mainnet with tpubs',
      JSON.stringify({ ...caravan, network: 'mainnet' }),
      {},
      'WALLET_IMPORT_INVALID',
    ],
    [
      'a Caravan configuration with a garbage xpub',
      JSON.stringify({
        ...caravan,
        extendedPublicKeys: (caravan.extendedPublicKeys as object[]).map((k) => ({
          ...k,
          xpub: `tpub${'1'.repeat(107)}`,
        })),
      }),
      {},
      'WALLET_IMPORT_INVALID',
    ],
    [
      'a Caravan configuration with a bad path',
      JSON.stringify({
        ...caravan,
        extendedPublicKeys: (caravan.extendedPublicKeys as object[]).map((k) => ({
          ...k,
          bip32Path: "m/48'/x",
        })),
      }),
      {},
      'WALLET_IMPORT_INVALID',
    ],
    [
      'a Caravan configuration naming a key twice',
      exportWallet(xpubWallet('P2WSH'), 'caravan').replace(
        '"addressType"',
        '"addressType": "P2SH", "addressType"',
      ),
      {},
      'JSON_DUPLICATE_KEY',
    ],
    [
      'a Caravan configuration cut short',
      exportWallet(xpubWallet('P2WSH'), 'caravan').slice(0, 200),
      {},
      'WALLET_IMPORT_INVALID',
    ],
    ['an empty file', '  \n', {}, 'INPUT_EMPTY'],
    ['a 100 KB file', `wsh(${'a'.repeat(100_000)})`, { name: 'x', network: 'regtest' }, 'INPUT_TOO_LARGE'],
    [
      'a 4 KB descriptor',
      `wsh(sortedmulti(2,${Array(60).fill(singleKeys[0]).join(',')}))`,
      { name: 'x', network: 'regtest' },
      'WALLET_IMPORT_INVALID',
    ],
  ];
  for (const [what, text, options, code] of cases) {
    it(`refuses ${what} (${code})`, () => {
      expect(codeOf(() => readCoordinatorWallet(text, options))).toBe(code);
    });
  }

  it('refuses a wallet name or a script that the policy already registers', () => {
    const current: PolicyDocument = { version: 1, rules: [], wallets: [good] };
    expect(codeOf(() => draftWithWallet(current, { ...hexWallet('P2SH'), name: good.name }, APPLIANCE))).toBe(
      'WALLET_NAME_TAKEN',
    );
    const sameScript = {
      ...good,
      name: 'again',
      descriptor: good.descriptor.replace(singleKeys[0]!, singleKeys[0]!),
    };
    expect(codeOf(() => draftWithWallet(current, sameScript, APPLIANCE))).toBe('WALLET_ALREADY_REGISTERED');
    // the same keys in another order under sortedmulti pay the same script
    const reordered = {
      ...good,
      name: 'reordered',
      descriptor: `wsh(sortedmulti(2,${[...singleKeys].reverse().join(',')}))`,
    };
    expect(codeOf(() => draftWithWallet(current, reordered, APPLIANCE))).toBe('WALLET_ALREADY_REGISTERED');
  });
});
