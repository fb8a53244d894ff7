// The Bitcoin parts of the policy: registered wallets (BIP-380 descriptors, checksums) and the Bitcoin rule
// checks (sighash types, value at risk, witness_utxo-only amounts, default fee limits), on real summaries.
import { describe, expect, it } from 'vitest';
import { checksum } from '@bitcoinerlab/descriptors';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { parsePsbt, summarizePsbt } from '../../chains/btc/index.js';
import { toHex } from '../../core/bytes.js';
import type { KeyRecord } from '../../core/signer.js';
import { btcPrepareOptions } from '../../policy/btc-checks.js';
import { evaluate } from '../../policy/evaluate.js';
import { parsePolicy } from '../../policy/schema.js';
import { btc, buildPsbt, type InputSpec } from './support/fixtures.js';

const key = (seed: number) => secp256k1.getPublicKey(sha256(Uint8Array.of(seed, 99)), true);
const OURS = key(1);
const K = [key(2), key(3)];
const keys: KeyRecord[] = [
  {
    label: 'vault',
    chain: 'btc',
    publicKey: toHex(OURS),
    keyId: 'id',
    address: '',
    network: 'testnet',
    createdAt: '',
  },
];
const DEST = btc.p2wpkh(key(7));
const DEST_ADDRESS = btc.Address(btc.TEST_NETWORK).encode(btc.OutScript.decode(DEST.script));
const desc = `wsh(sortedmulti(2,${[OURS, ...K].map(toHex).join(',')}))`;
const NOW = new Date('2026-06-01T00:00:00Z');

function policy(rule: object, wallets: object[] = []) {
  return parsePolicy({
    version: 1,
    wallets,
    rules: [
      {
        id: 'r',
        chain: 'btc',
        network: 'testnet',
        destinations: [{ address: DEST_ADDRESS, label: 'dest' }],
        ...rule,
      },
    ],
  });
}

function decide(
  doc: ReturnType<typeof policy>,
  inputs: InputSpec[],
  outputs: { script: Uint8Array; amount: bigint }[],
) {
  const parsed = parsePsbt(buildPsbt(inputs, outputs));
  const { summary } = summarizePsbt(parsed, keys, { network: 'testnet', ...btcPrepareOptions(doc) });
  return { summary, decision: evaluate(summary, doc, [], NOW) };
}

describe('policy wallets', () => {
  it('a descriptor with the right checksum is accepted, a wrong checksum is POLICY_INVALID naming the field', () => {
    expect(
      policy({}, [{ name: 'w', descriptor: `${desc}#${checksum(desc)}`, network: 'testnet' }]).wallets,
    ).toHaveLength(1);
    const bad = `${desc}#${checksum(desc).replace(/^./, (c) => (c === 'q' ? 'p' : 'q'))}`;
    expect(() => policy({}, [{ name: 'w', descriptor: bad, network: 'testnet' }])).toThrow(
      expect.objectContaining({
        code: 'POLICY_INVALID',
        info: expect.objectContaining({ field: 'wallets[0].descriptor' }),
      }),
    );
  });

  it('only multisig in wsh(), sh(wsh()) or sh() is a wallet; ranged and single-key descriptors are refused', () => {
    for (const ok of [
      desc,
      `sh(wsh(multi(1,${toHex(OURS)},${toHex(K[0]!)})))`,
      `sh(sortedmulti(2,${[OURS, ...K].map(toHex).join(',')}))`,
    ]) {
      expect(() => policy({}, [{ name: 'w', descriptor: ok, network: 'testnet' }])).not.toThrow();
    }
    for (const bad of [
      `wpkh(${toHex(OURS)})`,
      `wsh(pk(${toHex(OURS)}))`,
      'wsh(sortedmulti(2,tpubD6NzVbkrYhZ4XgiXtGrdW5XDAPFCL9h7we1vwNCpn8tGbBcgfVYjXyhWo4E1xkh56hjod1RhGjxbaTLV3X4FyWuejifB9jusQ46QzG87VKp/*,tpubD6NzVbkrYhZ4WQdzxL7NmJN7b85ePo4p6RSj9QQHF7te2RR9iUeVSGgnGkoUsB9LBRosgvNbjRv9bcsJgzgBd7QKuxDm23ZewkTRzNSLEDr/*))',
      'not a descriptor',
    ]) {
      expect(() => policy({}, [{ name: 'w', descriptor: bad, network: 'testnet' }])).toThrow(
        expect.objectContaining({ code: 'POLICY_INVALID' }),
      );
    }
  });

  it('repeated wallet names are refused', () => {
    const w = { name: 'w', descriptor: desc, network: 'testnet' };
    expect(() => policy({}, [w, w])).toThrow(expect.objectContaining({ code: 'POLICY_INVALID' }));
  });

  it('a rule allowing NONE or SINGLE must set maxAmount; allowWitnessUtxoOnly must set maxFee; both are Bitcoin-only', () => {
    expect(() => policy({ sighashTypes: ['NONE'] })).toThrow(
      expect.objectContaining({ code: 'POLICY_INVALID' }),
    );
    expect(() => policy({ sighashTypes: ['ALL|ANYONECANPAY'] })).not.toThrow();
    expect(() => policy({ allowWitnessUtxoOnly: true })).toThrow(
      expect.objectContaining({ code: 'POLICY_INVALID' }),
    );
    expect(() =>
      parsePolicy({ version: 1, rules: [{ id: 'e', chain: 'evm', chainIds: [1], sighashTypes: ['ALL'] }] }),
    ).toThrow(expect.objectContaining({ code: 'POLICY_INVALID' }));
  });
});

describe('Bitcoin rule checks on real summaries', () => {
  const input = (extra: Partial<InputSpec> = {}): InputSpec => ({
    kind: 'p2wpkh',
    pubkeys: [OURS],
    amount: 10_000_000n,
    ...extra,
  });

  it('the fee counts against maxAmount: 0.5 sent + 0.00001 fee does not pass a 0.5 limit', () => {
    const doc = policy({ maxAmount: '0.5' });
    const { decision } = decide(
      doc,
      [input({ amount: 60_000_000n })],
      [
        { script: DEST.script, amount: 50_000_000n },
        { script: btc.p2wpkh(OURS).script, amount: 9_999_000n },
      ],
    );
    expect(decision.allowed).toBe(false);
    expect(decision.reasons[0]!.message).toMatch(/0\.50001 BTC exceeds the 0\.5 BTC limit/);
  });

  it('default fee limits: above 5% of the amount sent is refused, at 5% allowed; a rule fee cap replaces them', () => {
    const at = (fee: bigint, rule: object = {}) =>
      decide(
        policy(rule),
        [input()],
        [
          { script: DEST.script, amount: 1_000_000n },
          { script: btc.p2wpkh(OURS).script, amount: 9_000_000n - fee },
        ],
      ).decision.allowed;
    expect(at(50_000n)).toBe(true);
    expect(at(50_001n)).toBe(false);
    expect(at(50_001n, { maxFee: '0.001' })).toBe(true);
  });

  it('a sighash type allowed by another rule only: this rule refuses it; the rule naming it allows, counting the input at risk', () => {
    const doc = parsePolicy({
      version: 1,
      rules: [
        {
          id: 'plain',
          chain: 'btc',
          network: 'testnet',
          destinations: [{ address: DEST_ADDRESS, label: 'd' }],
        },
        {
          id: 'single',
          chain: 'btc',
          network: 'testnet',
          destinations: [{ address: DEST_ADDRESS, label: 'd' }],
          sighashTypes: ['SINGLE'],
          maxAmount: '0.05',
        },
      ],
    });
    const outputs = [
      { script: DEST.script, amount: 1_000_000n },
      { script: btc.p2wpkh(OURS).script, amount: 8_990_000n },
    ];
    const small = decide(
      doc,
      [input({ amount: 4_000_000n, sighashType: 0x03 })],
      [
        { script: DEST.script, amount: 1_000_000n },
        { script: btc.p2wpkh(OURS).script, amount: 2_990_000n },
      ],
    );
    expect(small.decision.reasons.find((r) => r.rule === 'plain')!.message).toMatch(/SIGHASH_SINGLE/);
    expect(small.decision).toMatchObject({ allowed: true, rule: 'single' });
    // 0.1 BTC input signed SINGLE: the whole input is at risk, above the 0.05 cap
    const big = decide(doc, [input({ sighashType: 0x03 })], outputs);
    expect(big.summary.btc!.atRiskSats).toBe('10000000');
    expect(big.decision.allowed).toBe(false);
    expect(big.decision.reasons.find((r) => r.rule === 'single')!.message).toMatch(/at risk/);
  });

  it('witness_utxo only: summarized with allowWitnessUtxoOnly, the fee marked unverified, refused by a rule without the opt-in', () => {
    const doc = parsePolicy({
      version: 1,
      rules: [
        {
          id: 'strict',
          chain: 'btc',
          network: 'testnet',
          destinations: [{ address: DEST_ADDRESS, label: 'd' }],
        },
        {
          id: 'relaxed',
          chain: 'btc',
          network: 'testnet',
          destinations: [{ address: DEST_ADDRESS, label: 'd' }],
          allowWitnessUtxoOnly: true,
          maxFee: '0.0001',
        },
      ],
    });
    const { summary, decision } = decide(
      doc,
      [input({ nonWitnessUtxo: false })],
      [{ script: DEST.script, amount: 9_990_000n }],
    );
    expect(summary.btc!.feeStatus).toBe('unverified');
    expect(decision.reasons.find((r) => r.rule === 'strict')!.message).toMatch(/witness_utxo only/);
    expect(decision).toMatchObject({ allowed: true, rule: 'relaxed' });
  });
});
