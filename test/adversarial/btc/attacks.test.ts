/**
 * The Bitcoin attacks of an online coordinator (sighash rewrites, attacker-spendable "change", fees outside
 * every limit, understated foreign amounts). Each is built with @scure/btc-signer; for each one that worked
 * before, a throwaway in-memory key (never the HSM) signs the way the old appliance did and the signature is
 * re-verified against the attacker's rewrite (the money would move). Then the real appliance (bin/coldsign
 * on SoftHSM2) refuses with its code, writes nothing, and its HSM signed nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  btc,
  buildPsbt,
  foreignScript,
  type FixtureKind,
  multisigDescriptor,
} from '../../btc/support/fixtures.js';
import {
  createAppliance,
  rewriteOutputs,
  signAsAsked,
  throwaway,
  verifiesIn,
  withChecksum,
  OPTS,
  type Appliance,
} from './support.js';

const EXCHANGE = btc.p2wpkh(throwaway(200).pub);
const ATTACKER = throwaway(201);
const ATTACKER_2 = throwaway(202);
const COSIGNERS = [throwaway(210), throwaway(211)];
const BTC = 100_000_000n;

let app: Appliance;

beforeAll(() => {
  app = createAppliance(['vault-a', 'vault-b'], (pub) => ({
    version: 1,
    wallets: [
      {
        name: 'treasury',
        descriptor: withChecksum(
          `wsh(sortedmulti(2,${[pub['vault-a']!, ...COSIGNERS.map((c) => c.pub)].map((k) => Buffer.from(k).toString('hex')).join(',')}))`,
        ),
        network: 'mainnet',
      },
    ],
    rules: [
      {
        id: 'nocap',
        chain: 'btc',
        network: 'mainnet',
        keys: ['vault-a'],
        destinations: [{ address: EXCHANGE.address!, label: 'Exchange' }],
        maxAmount: '1',
        velocity: { window: '24h', maxAmount: '2' },
      },
      {
        id: 'capped',
        chain: 'btc',
        network: 'mainnet',
        keys: ['vault-b'],
        destinations: [{ address: EXCHANGE.address!, label: 'Exchange' }],
        maxAmount: '1',
        maxFee: '0.001',
      },
    ],
  }));
});
afterAll(() => app?.cleanup());

/** Refused by the appliance with `code` (exit 4 unless given), and the HSM signed nothing. */
function expectRefused(psbt: Uint8Array, name: string, code: string, exit = 4) {
  const before = app.signatureCount();
  const result = app.sign(psbt, name);
  expect(result.error, result.message).toBe(code);
  expect(result.code).toBe(exit);
  expect(app.signatureCount()).toBe(before);
  return result;
}

const ours = () => app.pub['vault-a']!;

describe('1. sighash types other than ALL', () => {
  const cases = [
    [0x02, 'NONE'],
    [0x03, 'SINGLE'],
    [0x82, 'NONE|ANYONECANPAY'],
    [0x83, 'SINGLE|ANYONECANPAY'],
  ] as const;
  for (const [type, name] of cases) {
    it(`SIGHASH_${name}: a signature survives the attacker replacing the outputs; coldsign refuses (PSBT_SIGHASH_REFUSED)`, () => {
      const shape = (pub: Uint8Array) =>
        buildPsbt(
          [{ kind: 'p2wpkh', pubkeys: [pub], amount: 20_000_000n, sighashType: type }],
          [
            { script: EXCHANGE.script, amount: 10_000_000n },
            { script: btc.p2wpkh(pub).script, amount: 9_990_000n },
          ],
        );
      // The old behaviour, with a throwaway key: sign as asked, then the attacker rewrites.
      const victim = throwaway(1);
      const original = shape(victim.pub);
      const sig = signAsAsked(original, 0, victim, type);
      // NONE: every output becomes the attacker's; SINGLE: output 0 stays, the change becomes the attacker's.
      const stolen = name.startsWith('NONE')
        ? [{ script: btc.p2wpkh(ATTACKER.pub).script, amount: 19_990_000n }]
        : [
            { script: EXCHANGE.script, amount: 10_000_000n },
            { script: btc.p2wpkh(ATTACKER.pub).script, amount: 9_990_000n },
          ];
      const rewritten = rewriteOutputs(original, stolen);
      const spend = { scriptCode: btc.p2pkh(victim.pub).script, amount: 20_000_000n, segwit: true };
      expect(verifiesIn(rewritten, 0, spend, sig, victim.pub)).toBe(true);
      // Now: nothing is signed.
      expectRefused(shape(ours()), `sighash-${type}`, 'PSBT_SIGHASH_REFUSED');
    });
  }

  it('SIGHASH_ALL|ANYONECANPAY is refused as well unless a rule names it', () => {
    const psbt = buildPsbt(
      [{ kind: 'p2wpkh', pubkeys: [ours()], amount: 20_000_000n, sighashType: 0x81 }],
      [{ script: EXCHANGE.script, amount: 19_990_000n }],
    );
    expectRefused(psbt, 'sighash-81', 'PSBT_SIGHASH_REFUSED');
  });
});

describe('2. multisig outputs an attacker can spend are not change', () => {
  const kinds: FixtureKind[] = ['p2wsh-multisig', 'p2sh-p2wsh-multisig', 'p2sh-multisig'];
  const hostile = (kind: FixtureKind, m: 1 | 2) =>
    m === 1
      ? { kind, m, pubkeys: [ours(), ATTACKER.pub], attackers: [ATTACKER] }
      : { kind, m, pubkeys: [ours(), ATTACKER.pub, ATTACKER_2.pub], attackers: [ATTACKER, ATTACKER_2] };
  const script = (
    kind: FixtureKind,
    m: number,
    pubkeys: Uint8Array[],
  ): { script: Uint8Array; witnessScript?: Uint8Array; redeemScript?: Uint8Array } => {
    const ms = btc.p2ms(m, pubkeys);
    if (kind === 'p2wsh-multisig') return btc.p2wsh(ms);
    if (kind === 'p2sh-p2wsh-multisig') return btc.p2sh(btc.p2wsh(ms));
    return btc.p2sh(ms);
  };

  for (const kind of kinds) {
    for (const m of [1, 2] as const) {
      const label = `${m}-of-${m + 1} ${kind} with attacker keys`;
      it(`${label}: the attackers alone spend the "change"; coldsign refuses the input and the output`, () => {
        const h = hostile(kind, m);
        const change = script(kind, h.m, h.pubkeys);
        // The attackers, without us, spend what the old appliance called change (throwaway keys only).
        const spend = buildPsbt(
          [{ kind, m: h.m, pubkeys: h.pubkeys, amount: 99_990_000n }],
          [{ script: btc.p2wpkh(ATTACKER.pub).script, amount: 99_980_000n }],
        );
        const tx = btc.Transaction.fromPSBT(spend, OPTS);
        for (const attacker of h.attackers) tx.signIdx(attacker.priv, 0);
        const sigs = tx.getInput(0).partialSig!;
        expect(sigs).toHaveLength(h.attackers.length);
        const ms = btc.p2ms(h.m, h.pubkeys).script;
        for (const [pub, sig] of sigs) {
          const segwit = kind !== 'p2sh-multisig';
          expect(verifiesIn(tx, 0, { scriptCode: ms, amount: 99_990_000n, segwit }, sig, pub)).toBe(true);
        }
        tx.finalize();
        expect(tx.extract().length).toBeGreaterThan(0);

        // Our P2WPKH money "returning" to the hostile script: not change, so not an allowed destination.
        const out = buildPsbt(
          [{ kind: 'p2wpkh', pubkeys: [ours()], amount: BTC }],
          [
            {
              script: change.script,
              amount: 99_990_000n,
              ...(change.witnessScript ? { witnessScript: change.witnessScript } : {}),
              ...(change.redeemScript ? { redeemScript: change.redeemScript } : {}),
            },
          ],
        );
        const refused = expectRefused(out, `out-${kind}-${m}`, 'POLICY_DENIED');
        expect(refused.message).toMatch(/not in the allowlist/);

        // A hostile multisig as input (old: its keys became "our cosigners"): not a registered wallet.
        const input = buildPsbt(
          [
            { kind, m: h.m, pubkeys: h.pubkeys, amount: 10_000n },
            { kind: 'p2wpkh', pubkeys: [ours()], amount: BTC },
          ],
          [{ script: change.script, amount: 100_000_000n }],
        );
        expectRefused(input, `in-${kind}-${m}`, 'PSBT_WALLET_UNREGISTERED');
      });
    }
  }

  it('change to the registered wallet is recognised from its descriptor (no witness script) and named', () => {
    const treasury = btc.p2wsh(btc.p2ms(2, [ours(), ...COSIGNERS.map((c) => c.pub)].sort(Buffer.compare)));
    expect(multisigDescriptor('p2wsh-multisig', 2, [ours()])).toMatch(/^wsh\(multi/);
    const psbt = buildPsbt(
      [{ kind: 'p2wpkh', pubkeys: [ours()], amount: 30_000_000n }],
      [
        { script: EXCHANGE.script, amount: 10_000_000n },
        { script: treasury.script, amount: 19_990_000n },
      ],
    );
    const { code, report } = app.inspect(psbt, 'treasury-change');
    expect(code).toBe(0);
    const summary = report.summary as { outputs: { change: boolean; wallet?: string }[] };
    expect(summary.outputs[1]).toMatchObject({ change: true, wallet: 'treasury' });
    expect((report.policy as { allowed: boolean }).allowed).toBe(true);
  });
});

describe('3. the fee counts as value leaving our keys', () => {
  it('a 4.89 BTC fee under maxAmount 1 (no fee cap): a signature moves it to miners; coldsign refuses', () => {
    const shape = (pub: Uint8Array) =>
      buildPsbt(
        [{ kind: 'p2wpkh', pubkeys: [pub], amount: 5n * BTC }],
        [
          { script: EXCHANGE.script, amount: 10_000_000n },
          { script: btc.p2wpkh(pub).script, amount: 1_000_000n },
        ],
      );
    const victim = throwaway(3);
    const psbt = shape(victim.pub);
    const sig = signAsAsked(psbt, 0, victim, 0x01);
    const tx = btc.Transaction.fromPSBT(psbt, OPTS);
    expect(
      verifiesIn(
        tx,
        0,
        { scriptCode: btc.p2pkh(victim.pub).script, amount: 5n * BTC, segwit: true },
        sig,
        victim.pub,
      ),
    ).toBe(true);
    expect(tx.fee).toBe(489_000_000n);
    const refused = expectRefused(shape(ours()), 'fee-489', 'POLICY_DENIED');
    expect(refused.message).toMatch(/4\.99 BTC exceeds the 1 BTC limit/);
  });

  it('velocity counts the fee: an allowed 0.1 BTC payment records 0.1 BTC plus its fee', () => {
    const psbt = buildPsbt(
      [{ kind: 'p2wpkh', pubkeys: [ours()], amount: 30_000_000n }],
      [
        { script: EXCHANGE.script, amount: 10_000_000n },
        { script: btc.p2wpkh(ours()).script, amount: 19_990_000n },
      ],
    );
    const result = app.sign(psbt, 'velocity-fee');
    expect(result.code, result.message).toBe(0);
    expect(app.velocityRows().at(-1)).toEqual({ rule: 'nocap', raw: String(10_000_000 + 10_000) });
  });

  it('a 6% fee without a fee cap in the rule is refused by the default limit', () => {
    const psbt = buildPsbt(
      [{ kind: 'p2wpkh', pubkeys: [ours()], amount: 30_000_000n }],
      [
        { script: EXCHANGE.script, amount: 10_000_000n },
        { script: btc.p2wpkh(ours()).script, amount: 19_400_000n },
      ],
    );
    const refused = expectRefused(psbt, 'fee-6pct', 'POLICY_DENIED');
    expect(refused.message).toMatch(/default limit/);
  });
});

describe('4. a foreign input whose witness_utxo understates its amount', () => {
  it('our signature stays valid in the real transaction (fee 0.50011, not 0.00011); coldsign says the fee is unknown and the capped rule refuses', () => {
    const shape = (pub: Uint8Array, foreignClaim: bigint) =>
      buildPsbt(
        [
          { kind: 'p2wpkh', pubkeys: [pub], amount: BTC },
          // foreign input: witness_utxo only, claiming less than it holds
          { kind: 'p2wpkh', pubkeys: [ATTACKER.pub], amount: foreignClaim, nonWitnessUtxo: false },
        ],
        [
          { script: EXCHANGE.script, amount: 10_000_000n },
          { script: btc.p2wpkh(pub).script, amount: 90_000_000n },
        ],
      );
    const victim = throwaway(4);
    const claimed = shape(victim.pub, 11_000n);
    const sig = signAsAsked(claimed, 0, victim, 0x01);
    // BIP-143 commits to our input's amount only: the signature is as valid with the real foreign amount.
    const real = btc.Transaction.fromPSBT(claimed, OPTS);
    real.updateInput(
      1,
      { witnessUtxo: { script: btc.p2wpkh(ATTACKER.pub).script, amount: 50_011_000n } },
      true,
    );
    expect(real.fee).toBe(50_011_000n);
    expect(
      verifiesIn(
        real,
        0,
        { scriptCode: btc.p2pkh(victim.pub).script, amount: BTC, segwit: true },
        sig,
        victim.pub,
      ),
    ).toBe(true);

    const capped = (() => {
      const psbt = shape(app.pub['vault-b']!, 11_000n);
      return psbt;
    })();
    const { report } = app.inspect(capped, 'understated-inspect');
    const summary = report.summary as { fee: string; feeSats: string | null; feeStatus: string };
    expect(summary).toMatchObject({ fee: 'unknown', feeSats: null, feeStatus: 'unknown' });
    const reasons = (report.policy as { reasons: { rule: string; message: string }[] }).reasons;
    expect(reasons.filter((r) => r.rule === 'capped').map((r) => r.message)).toEqual([
      'The request states no fee, and rule capped caps fees.',
    ]);
    expectRefused(capped, 'understated', 'POLICY_DENIED');
  });

  it('our own input with witness_utxo only is refused by default (CVE-2020-14199, issue 14 item 11)', () => {
    const psbt = buildPsbt(
      [{ kind: 'p2wpkh', pubkeys: [ours()], amount: BTC, nonWitnessUtxo: false }],
      [{ script: EXCHANGE.script, amount: 99_990_000n }],
    );
    expectRefused(psbt, 'witness-only', 'PSBT_UTXO_MISSING', 3);
  });
});

it('foreign keys are never ours: a sanity check of the fixtures', () => {
  expect(foreignScript(1)).not.toEqual(btc.p2wpkh(ours()).script);
});
