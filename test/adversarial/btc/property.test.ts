/**
 * Property (issue 11): over 10,000 random PSBTs mixing our keys, registered and unregistered multisig,
 * foreign inputs (proven and witness_utxo-only), every sighash type and fees from dust to half the inputs,
 * the appliance's pure path (parse → summarize → evaluate) allows only when the value leaving our keys plus
 * the fee is within the rule, and plans only SIGHASH_ALL signatures. A smaller sample of the allowed ones is
 * signed for real in SoftHSM2, and every signature is checked by @scure/btc-signer's digest. The oracle below
 * recomputes everything from the generator's own description of the PSBT, not from coldsign's summary.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parsePsbt, signPsbt, summarizePsbt } from '../../../chains/btc/index.js';
import { isColdsignError } from '../../../core/errors.js';
import { compressPublicKey } from '../../../core/signature.js';
import { toHex } from '../../../core/bytes.js';
import type { KeyRecord } from '../../../core/signer.js';
import { btcPrepareOptions } from '../../../policy/btc-checks.js';
import { evaluate } from '../../../policy/evaluate.js';
import { parsePolicy, type PolicyDocument } from '../../../policy/schema.js';
import type { Hsm } from '../../../hsm/index.js';
import { createTestToken, type TestToken } from '../../support/softhsm.js';
import { btc, buildPsbt, verifyWithScure, type InputSpec } from '../../btc/support/fixtures.js';
import { throwaway } from './support.js';

const MAX = 100_000_000n; // the rules' maxAmount: 1 BTC
const MAX_FEE = 100_000n; // rule "capped": maxFee 0.001
const D1 = btc.p2wpkh(throwaway(50).pub);
const D2 = btc.p2sh(btc.p2wpkh(throwaway(51).pub));
const ATTACKER = throwaway(52);
const FOREIGN = throwaway(53);
const COSIGNERS = [throwaway(60).pub, throwaway(61).pub];
const NOW = new Date('2026-06-01T12:00:00Z');

let token: TestToken;
let hsm: Hsm;
const keys: KeyRecord[] = [];
let our: Uint8Array[] = [];
let policies: Record<'nocap' | 'capped', PolicyDocument>;

beforeAll(async () => {
  token = createTestToken();
  hsm = token.open();
  for (const label of ['k0', 'k1']) {
    const key = await hsm.keys.generate(label);
    const publicKey = compressPublicKey(key.publicKey);
    keys.push({
      label,
      chain: 'btc',
      publicKey: toHex(publicKey),
      keyId: key.keyId,
      address: '',
      network: 'testnet',
      createdAt: '2026-01-01T00:00:00Z',
    });
  }
  our = keys.map((k) => Uint8Array.from(Buffer.from(k.publicKey, 'hex')));
  const wallet = `wsh(multi(2,${[our[0]!, ...COSIGNERS].map(toHex).join(',')}))`;
  // The allowlisted destinations as testnet addresses (the rule lists addresses, the PSBT carries scripts).
  const testnet = { bech32: 'tb', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };
  const address = (script: Uint8Array) => btc.Address(testnet).encode(btc.OutScript.decode(script));
  const policyOf = (id: string, extra: object) =>
    parsePolicy({
      version: 1,
      wallets: [{ name: 'vault', descriptor: wallet, network: 'testnet' }],
      rules: [
        {
          id,
          chain: 'btc',
          network: 'testnet',
          destinations: [
            { address: address(D1.script), label: 'd1' },
            { address: address(D2.script), label: 'd2' },
          ],
          maxAmount: '1',
          ...extra,
        },
      ],
    });
  policies = { nocap: policyOf('nocap', {}), capped: policyOf('capped', { maxFee: '0.001' }) };
});

afterAll(() => {
  hsm?.close();
  token?.cleanup();
});

type Source =
  | 'our-p2wpkh'
  | 'our-p2sh-p2wpkh'
  | 'our-p2pkh'
  | 'wallet'
  | 'unregistered'
  | 'foreign'
  | 'foreign-witness-only';
type Target = 'd1' | 'd2' | 'attacker' | 'change' | 'wallet' | 'unregistered';
const SIGHASHES = [undefined, 0x01, 0x02, 0x03, 0x81, 0x82, 0x83] as const;

const inputArb = fc.record({
  source: fc.constantFrom<Source>(
    'our-p2wpkh',
    'our-p2sh-p2wpkh',
    'our-p2pkh',
    'wallet',
    'unregistered',
    'foreign',
    'foreign-witness-only',
  ),
  key: fc.integer({ min: 0, max: 1 }),
  amount: fc.bigInt({ min: 10_000n, max: 150_000_000n }),
  sighash: fc.constantFrom(...SIGHASHES),
});
const psbtArb = fc.record({
  inputs: fc.array(inputArb, { minLength: 1, maxLength: 3 }),
  outputs: fc.array(
    fc.record({
      target: fc.constantFrom<Target>('d1', 'd2', 'attacker', 'change', 'wallet', 'unregistered'),
      weight: fc.integer({ min: 1, max: 100 }),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  // fee as parts per million of the inputs: dust to half of everything
  feePpm: fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 500_000 })),
  policy: fc.constantFrom<'nocap' | 'capped'>('nocap', 'capped'),
});
type Case = typeof psbtArb extends fc.Arbitrary<infer T> ? T : never;

const isOurs = (s: Source) => s.startsWith('our-') || s === 'wallet' || s === 'unregistered';

function inputSpec(input: Case['inputs'][number]): InputSpec {
  const sighash = input.sighash ? { sighashType: input.sighash } : {};
  switch (input.source) {
    case 'our-p2wpkh':
      return { kind: 'p2wpkh', pubkeys: [our[input.key]!], amount: input.amount, ...sighash };
    case 'our-p2sh-p2wpkh':
      return { kind: 'p2sh-p2wpkh', pubkeys: [our[input.key]!], amount: input.amount, ...sighash };
    case 'our-p2pkh':
      return { kind: 'p2pkh', pubkeys: [our[input.key]!], amount: input.amount, ...sighash };
    case 'wallet':
      return {
        kind: 'p2wsh-multisig',
        m: 2,
        pubkeys: [our[0]!, ...COSIGNERS],
        amount: input.amount,
        ...sighash,
      };
    case 'unregistered':
      return {
        kind: 'p2wsh-multisig',
        m: 1,
        pubkeys: [our[0]!, ATTACKER.pub],
        amount: input.amount,
        ...sighash,
      };
    case 'foreign':
      return { kind: 'p2wpkh', pubkeys: [FOREIGN.pub], amount: input.amount };
    case 'foreign-witness-only':
      return { kind: 'p2wpkh', pubkeys: [FOREIGN.pub], amount: input.amount, nonWitnessUtxo: false };
  }
}

function targetScript(target: Target): Uint8Array {
  switch (target) {
    case 'd1':
      return D1.script;
    case 'd2':
      return D2.script;
    case 'attacker':
      return btc.p2wpkh(ATTACKER.pub).script;
    case 'change':
      return btc.p2wpkh(our[1]!).script;
    case 'wallet':
      return btc.p2wsh(btc.p2ms(2, [our[0]!, ...COSIGNERS])).script;
    case 'unregistered':
      return btc.p2wsh(btc.p2ms(1, [our[0]!, ATTACKER.pub])).script;
  }
}

function build(c: Case) {
  const specs = c.inputs.map(inputSpec);
  const totalIn = c.inputs.reduce((n, i) => n + i.amount, 0n);
  const fee = (totalIn * BigInt(c.feePpm)) / 1_000_000n;
  const weights = c.outputs.reduce((n, o) => n + o.weight, 0);
  const outputs = c.outputs.map((o) => ({
    target: o.target,
    script: targetScript(o.target),
    amount: ((totalIn - fee) * BigInt(o.weight)) / BigInt(weights),
  }));
  const realFee = totalIn - outputs.reduce((n, o) => n + o.amount, 0n);
  return { psbt: buildPsbt(specs, outputs), specs, outputs, totalIn, fee: realFee };
}

/** What the rule must hold, from the generator's description alone. */
function oracle(c: Case, built: ReturnType<typeof build>, policy: 'nocap' | 'capped') {
  const ourIn = c.inputs.filter((i) => isOurs(i.source)).reduce((n, i) => n + i.amount, 0n);
  const ourChange = built.outputs
    .filter((o) => o.target === 'change' || o.target === 'wallet')
    .reduce((n, o) => n + o.amount, 0n);
  const sent = built.outputs
    .filter((o) => o.target !== 'change' && o.target !== 'wallet')
    .reduce((n, o) => n + o.amount, 0n);
  const anyForeign = c.inputs.some((i) => !isOurs(i.source));
  const feeKnown = !c.inputs.some((i) => i.source === 'foreign-witness-only');
  return { ourIn, ourChange, sent, anyForeign, feeKnown, policy };
}

/** The appliance's pure decision for a case: refused (with a code) or allowed (with the plan). */
function decide(c: Case) {
  const built = build(c);
  const policy = policies[c.policy];
  try {
    const parsed = parsePsbt(built.psbt);
    const { summary, plan } = summarizePsbt(parsed, keys, {
      network: 'testnet',
      ...btcPrepareOptions(policy),
    });
    const decision = evaluate(summary, policy, [], NOW);
    return { built, parsed, plan, summary, decision, code: null as string | null };
  } catch (error) {
    if (!isColdsignError(error)) throw error;
    return { built, parsed: null, plan: null, summary: null, decision: null, code: error.code };
  }
}

function assertWithinRule(c: Case, result: ReturnType<typeof decide>): void {
  const o = oracle(c, result.built, c.policy);
  // only destinations of the allowlist receive value
  for (const out of result.built.outputs) {
    if (out.amount > 0n) expect(['d1', 'd2', 'change', 'wallet']).toContain(out.target);
  }
  // value leaving our keys (our inputs minus our change) is within maxAmount ...
  expect(o.ourIn - o.ourChange <= MAX).toBe(true);
  // ... and when every input is ours, that is exactly the outputs not ours plus the fee
  if (!o.anyForeign) expect(o.sent + result.built.fee <= MAX).toBe(true);
  if (c.policy === 'capped') {
    expect(o.feeKnown).toBe(true);
    expect(result.built.fee <= MAX_FEE).toBe(true);
  } else if (o.feeKnown && !o.anyForeign) {
    // the default sanity limit: at most 5% of the amount sent (of our inputs when nothing is sent)
    const base = o.sent > 0n ? o.sent : o.ourIn;
    expect(result.built.fee * 100n <= base * 5n).toBe(true);
  }
  // nothing but SIGHASH_ALL is planned
  for (const request of result.plan!.requests) expect(request.sighashType).toBe(0x01);
  // no unregistered multisig of our key is signed
  expect(c.inputs.some((i) => i.source === 'unregistered')).toBe(false);
}

describe('random PSBTs against the policy (fast-check, fixed seed)', () => {
  it('10,000 PSBTs: allowed only within the rule (value leaving our keys plus fee), and only SIGHASH_ALL', () => {
    let allowed = 0;
    const codes = new Map<string, number>();
    fc.assert(
      fc.property(psbtArb, (c) => {
        const result = decide(c);
        if (result.code) {
          codes.set(result.code, (codes.get(result.code) ?? 0) + 1);
          return;
        }
        if (!result.decision!.allowed) {
          codes.set('POLICY_DENIED', (codes.get('POLICY_DENIED') ?? 0) + 1);
          return;
        }
        allowed += 1;
        assertWithinRule(c, result);
      }),
      { numRuns: 10_000, seed: 1_100_011 },
    );
    // not vacuous: a fair share is allowed, and each refusal path is exercised
    expect(allowed).toBeGreaterThan(200);
    for (const code of [
      'POLICY_DENIED',
      'PSBT_SIGHASH_REFUSED',
      'PSBT_WALLET_UNREGISTERED',
      'PSBT_NOTHING_TO_SIGN',
    ]) {
      expect(codes.get(code) ?? 0, code).toBeGreaterThan(0);
    }
  }, 900_000);

  it('a sample of allowed PSBTs signed in SoftHSM2: every signature is SIGHASH_ALL and verifies under scure', async () => {
    const samples = fc.sample(psbtArb, { numRuns: 3_000, seed: 7_011 });
    let signedCount = 0;
    for (const c of samples) {
      if (signedCount >= 40) break;
      const result = decide(c);
      if (result.code || !result.decision!.allowed) continue;
      const signed = await signPsbt(result.parsed!, result.plan!, hsm.signer);
      expect(signed.signatures.length).toBeGreaterThan(0);
      for (const s of signed.signatures) expect(s.signature.endsWith('01')).toBe(true);
      verifyWithScure(result.built.psbt, signed, result.built.specs);
      signedCount += 1;
    }
    expect(signedCount).toBe(40);
  }, 900_000);
});
