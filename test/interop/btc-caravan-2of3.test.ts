// Caravan 2-of-3 with two appliances (issue #14): two coldsign homes (two SoftHSM2 tokens) each hold one key of
// a 2-of-3 registered wallet whose third key is a throwaway cosigner that never signs. Appliance A has the
// wallets in its policy; appliance B registers them from A's `wallets export` through `wallets import` and its
// own officers. For P2WSH, P2SH-P2WSH and P2SH, Caravan's own code (@caravan/psbt getUnsignedMultisigPsbtV0)
// builds the PSBT, each appliance signs it with the real CLI, and Caravan's own code (@caravan/bitcoin
// signedMultisigTransaction, which checks every signature against its own digest) combines and finalizes the
// transaction; bitcoinjs-lib's combine + finalize must give the same bytes, and @scure/btc-signer's digest must
// verify each signature.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  generateMultisigFromPublicKeys,
  multisigAddress,
  multisigRedeemScript,
  multisigWitnessScript,
  signedMultisigTransaction,
} from '@caravan/bitcoin';
import { getUnsignedMultisigPsbtV0 } from '@caravan/psbt';
import * as btc from '@scure/btc-signer';
import { Psbt } from 'bitcoinjs-lib';
import {
  createAppliance,
  throwaway,
  verifiesIn,
  withChecksum,
  type Appliance,
} from '../adversarial/btc/support.js';
import { officerPassphrase } from '../support/appliance-home.js';

const TYPES = ['P2WSH', 'P2SH-P2WSH', 'P2SH'] as const;
type CaravanType = (typeof TYPES)[number];
const WRAP: Record<CaravanType, (m: string) => string> = {
  P2WSH: (m) => `wsh(${m})`,
  'P2SH-P2WSH': (m) => `sh(wsh(${m}))`,
  P2SH: (m) => `sh(${m})`,
};
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const walletName = (type: CaravanType) => `caravan-${type}`;
const RULE = {
  id: 'caravan-spend',
  chain: 'btc',
  network: 'mainnet',
  anyDestination: true,
  maxAmount: '0.01',
};
/** The third cosigner: a key in this test's memory only, never used to sign. */
const third = throwaway(77);
const payee = btc.p2wpkh(throwaway(78).pub).address!;

let a: Appliance;
let b: Appliance;
let pubA: string;
let pubB: string;

const descriptorOf = (type: CaravanType) =>
  withChecksum(WRAP[type](`sortedmulti(2,${pubA},${pubB},${hex(third.pub)})`));

/** Runs `coldsign` with an officer's passphrase. */
const asOfficer = (appliance: Appliance, officer: 'alice' | 'bob', args: string[]) =>
  appliance.cli.run(args, { COLDSIGN_PASSPHRASE: officerPassphrase(officer) });

beforeAll(() => {
  b = createAppliance(['cosigner-b'], () => ({ version: 1, rules: [RULE] }));
  pubB = hex(b.pub['cosigner-b']!);
  a = createAppliance(['cosigner-a'], (pub) => {
    pubA = hex(pub['cosigner-a']!);
    return {
      version: 1,
      rules: [RULE],
      wallets: TYPES.map((type) => ({
        name: walletName(type),
        network: 'mainnet',
        descriptor: descriptorOf(type),
      })),
    };
  });
  // B registers A's wallets from A's exports (BSMS for one, descriptors for the others), through its officers.
  for (const type of TYPES) {
    const format = type === 'P2WSH' ? 'bsms' : 'descriptor';
    const exported = a.file(`${type}.${format}`);
    const made = a.cli.run(['wallets', 'export', walletName(type), '--format', format, '--out', exported]);
    expect(made.code, made.stderr).toBe(0);
    const draft = b.file(`draft-${type}.json`);
    const imported = b.cli.run([
      'wallets',
      'import',
      exported,
      '--name',
      walletName(type),
      '--network',
      'mainnet',
      '--out',
      draft,
      '--json',
    ]);
    expect(imported.code, imported.stderr).toBe(0);
    for (const officer of ['alice', 'bob'] as const) {
      const signed = asOfficer(b, officer, ['policy', 'sign', draft, '--key', b.file(`${officer}.pem`)]);
      expect(signed.code, signed.stderr).toBe(0);
    }
    const applied = b.cli.run(['policy', 'apply', draft]);
    expect(applied.code, applied.stderr).toBe(0);
  }
});
afterAll(() => {
  a?.cleanup();
  b?.cleanup();
});

interface Wallet {
  name: string;
  descriptor: string;
  network: string;
}
const walletsOf = (appliance: Appliance) =>
  appliance.cli.run(['policy', 'show', '--json']).json<{ policy: { version: number; wallets: Wallet[] } }>()
    .policy;

describe('registration across two appliances', () => {
  it("B's wallets, imported from A's exports and signed by B's officers, are A's wallets", () => {
    const fromA = walletsOf(a).wallets;
    const fromB = walletsOf(b);
    expect(fromB.version).toBe(1 + TYPES.length);
    expect(fromB.wallets.map((w) => [w.name, w.network, w.descriptor])).toEqual(
      fromA.map((w) => [w.name, w.network, w.descriptor]),
    );
  });

  it('each wallet exports from B as the same BSMS record (descriptor and first address) as from A', () => {
    for (const type of TYPES) {
      const args = ['wallets', 'export', walletName(type), '--format', 'bsms'];
      const fromA = a.cli.run(args);
      expect(fromA.code, fromA.stderr).toBe(0);
      expect(b.cli.run(args).stdout).toBe(fromA.stdout);
    }
  });

  it('refuses an unknown wallet, a Caravan configuration of single keys, and a tampered record, writing nothing', () => {
    const unknown = a.cli.run(['wallets', 'export', 'nope', '--format', 'descriptor', '--json']);
    expect(unknown.code).toBe(3);
    expect(unknown.json<{ error: { code: string } }>().error.code).toBe('WALLET_NOT_FOUND');
    const noXpub = a.cli.run(['wallets', 'export', walletName('P2WSH'), '--format', 'caravan', '--json']);
    expect(noXpub.code).toBe(3);
    expect(noXpub.json<{ error: { code: string } }>().error.code).toBe('WALLET_EXPORT_UNSUPPORTED');
    const record = readFileSync(a.file('P2WSH.bsms'), 'utf8');
    const otherAddress = btc.p2wsh(btc.p2ms(2, [third.pub, throwaway(79).pub, throwaway(80).pub])).address!;
    writeFileSync(a.file('tampered.bsms'), record.replace(/\n[^\n]+\n$/, `\n${otherAddress}\n`));
    const draft = b.file('tampered-draft.json');
    const tampered = b.cli.run([
      'wallets',
      'import',
      a.file('tampered.bsms'),
      '--name',
      'x',
      '--out',
      draft,
      '--json',
    ]);
    expect(tampered.code).toBe(3);
    expect(tampered.json<{ error: { code: string } }>().error.code).toBe('WALLET_IMPORT_INVALID');
    expect(existsSync(draft)).toBe(false);
    const inHome = b.cli.run([
      'wallets',
      'import',
      a.file('P2SH.descriptor'),
      '--name',
      'y',
      '--network',
      'mainnet',
      '--out',
      join(b.cli.env.COLDSIGN_HOME!, 'draft.json'),
      '--json',
    ]);
    expect(inHome.code).toBe(2);
    expect(inHome.json<{ error: { code: string } }>().error.code).toBe('OUTPUT_INSIDE_HOME');
  });
});

/** Caravan's own multisig object and unsigned PSBT spending 100,000 sat of the wallet to `payee`. */
function caravanSpend(type: CaravanType) {
  // Caravan's wallet sorts the keys (BIP-67) before it calls this, as sortedmulti does.
  const sorted = [pubA, pubB, hex(third.pub)].sort();
  const multisig = generateMultisigFromPublicKeys('mainnet', type, 2, ...sorted);
  const address = multisigAddress(multisig) as string;
  const funding = new btc.Transaction({ allowUnknownInputs: true, allowUnknownOutputs: true });
  funding.addInput({ txid: new Uint8Array(32).fill(0x42), index: 0 });
  funding.addOutputAddress(address, 100_000n, btc.NETWORK);
  const transactionHex = hex(funding.toBytes(true, true));
  const multisigScript: Uint8Array = (
    type === 'P2SH' ? multisigRedeemScript(multisig) : multisigWitnessScript(multisig)
  ).output;
  const psbt = getUnsignedMultisigPsbtV0({
    network: 'mainnet' as never,
    inputs: [
      {
        hash: funding.id,
        index: 0,
        transactionHex,
        ...(type === 'P2SH' ? {} : { witnessScript: multisigWitnessScript(multisig).output }),
        ...(type === 'P2WSH' ? {} : { redeemScript: multisigRedeemScript(multisig).output }),
        spendingWallet: {} as never,
      },
    ],
    outputs: [{ address: payee, value: 97_000 }],
  });
  const legacyInput = { txid: funding.id, index: 0, transactionHex, amountSats: '100000', multisig };
  return { address, multisigScript, psbt: psbt.toBuffer(), legacyInput };
}

function signedBy(appliance: Appliance, psbt: Uint8Array, name: string): Psbt {
  const result = appliance.sign(psbt, name);
  expect(result.code, result.message).toBe(0);
  const text = readFileSync(appliance.file(`${name}.signed`), 'utf8').trim();
  return Psbt.fromBase64(text);
}

describe('Caravan 2-of-3: built by Caravan, signed by two appliances, finalized by Caravan', () => {
  for (const type of TYPES) {
    it(`${type}`, () => {
      vi.spyOn(console, 'warn').mockImplementation(() => {});
      const spend = caravanSpend(type);
      const { wallets } = walletsOf(a);
      expect(wallets.find((w) => w.name === walletName(type))!.descriptor).toBe(descriptorOf(type));
      const fromA = signedBy(a, spend.psbt, `a-${type}`);
      const fromB = signedBy(b, spend.psbt, `b-${type}`);
      const sigA = fromA.data.inputs[0]!.partialSig!;
      const sigB = fromB.data.inputs[0]!.partialSig!;
      expect(sigA.map((s) => hex(s.pubkey))).toEqual([pubA]);
      expect(sigB.map((s) => hex(s.pubkey))).toEqual([pubB]);

      // Caravan combines and finalizes; it checks each signature against its own digest and throws otherwise.
      const caravanTx = signedMultisigTransaction(
        'mainnet',
        [spend.legacyInput],
        [{ address: payee, amountSats: '97000' }],
        [[hex(sigA[0]!.signature)], [hex(sigB[0]!.signature)]],
      );
      // bitcoinjs-lib's combiner and finalizer give the same transaction.
      const combined = Psbt.fromBuffer(Buffer.from(spend.psbt)).combine(fromA, fromB);
      combined.finalizeAllInputs();
      expect(combined.extractTransaction().toHex()).toBe(caravanTx.toHex());

      // @scure/btc-signer's digest verifies both signatures over the multisig script, and the final
      // transaction pays the payee from the registered wallet's script.
      const tx = btc.Transaction.fromRaw(caravanTx.toBuffer(), {
        allowUnknownOutputs: true,
        disableScriptCheck: true,
      });
      const segwit = type !== 'P2SH';
      for (const [sig, pub] of [
        [sigA[0]!.signature, pubA],
        [sigB[0]!.signature, pubB],
      ] as const) {
        const spendInfo = { scriptCode: spend.multisigScript, amount: 100_000n, segwit };
        expect(verifiesIn(tx, 0, spendInfo, sig, Buffer.from(pub, 'hex'))).toBe(true);
      }
      const wrongKey = verifiesIn(
        tx,
        0,
        { scriptCode: spend.multisigScript, amount: 100_000n, segwit },
        sigA[0]!.signature,
        third.pub,
      );
      expect(wrongKey).toBe(false);
      expect(tx.getOutput(0).amount).toBe(97_000n);
      expect(btc.Address(btc.NETWORK).encode(btc.OutScript.decode(tx.getOutput(0).script!))).toBe(payee);
      const input = caravanTx.ins[0]!;
      const carriesScript = segwit
        ? hex(input.witness.at(-1)!) === hex(spend.multisigScript)
        : hex(input.script).endsWith(hex(spend.multisigScript));
      expect(carriesScript).toBe(true);
    });
  }
});
