/**
 * A coordinator collects SIGHASH_NONE signatures one request at a time, each under the rule's velocity limit,
 * then rewrites every output to itself. Built with @scure/btc-signer; a throwaway in-memory key (never the HSM)
 * shows that each signature still verifies after the rewrite (the money moves). coldsign records the value at
 * risk of each signed request in its velocity history, so the request that would cross the limit is refused
 * (POLICY_DENIED) and the HSM signs nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { btc, buildPsbt } from '../../btc/support/fixtures.js';
import {
  createAppliance,
  rewriteOutputs,
  signAsAsked,
  throwaway,
  verifiesIn,
  type Appliance,
} from './support.js';

const EXCHANGE = btc.p2wpkh(throwaway(220).pub);
const ATTACKER = throwaway(221);
const SIGHASH_NONE = 0x02;
const INPUT = 80_000_000n;
const PAID = 1_000_000n;
const FEE = 10_000n;

let app: Appliance;

beforeAll(() => {
  app = createAppliance(['vault-n'], () => ({
    version: 1,
    rules: [
      {
        id: 'none-allowed',
        chain: 'btc',
        network: 'mainnet',
        keys: ['vault-n'],
        destinations: [{ address: EXCHANGE.address!, label: 'Exchange' }],
        sighashTypes: ['NONE'],
        maxAmount: '1',
        velocity: { window: '24h', maxAmount: '1.5' },
      },
    ],
  }));
});
afterAll(() => app?.cleanup());

/** 0.8 BTC of `pub` signed with SIGHASH_NONE: 0.01 BTC to the exchange, the rest back as change. */
const shape = (pub: Uint8Array) =>
  buildPsbt(
    [{ kind: 'p2wpkh', pubkeys: [pub], amount: INPUT, sighashType: SIGHASH_NONE }],
    [
      { script: EXCHANGE.script, amount: PAID },
      { script: btc.p2wpkh(pub).script, amount: INPUT - PAID - FEE },
    ],
  );

describe('velocity under SIGHASH_NONE', () => {
  it('each 0.8 BTC NONE signature can be redirected whole after signing (throwaway key)', () => {
    const victim = throwaway(2);
    let stolen = 0n;
    for (let request = 0; request < 2; request++) {
      const original = shape(victim.pub);
      const signature = signAsAsked(original, 0, victim, SIGHASH_NONE);
      const rewritten = rewriteOutputs(original, [
        { script: btc.p2wpkh(ATTACKER.pub).script, amount: INPUT - FEE },
      ]);
      const spend = { scriptCode: btc.p2pkh(victim.pub).script, amount: INPUT, segwit: true };
      expect(verifiesIn(rewritten, 0, spend, signature, victim.pub)).toBe(true);
      stolen += INPUT - FEE;
    }
    // Two requests each under the 1.5 BTC velocity limit move more than it once rewritten.
    expect(stolen).toBeGreaterThan(150_000_000n);
  });

  it('coldsign records the 0.8 BTC at risk as spent and refuses the second request (POLICY_DENIED)', () => {
    const first = app.sign(shape(app.pub['vault-n']!), 'none-1');
    expect(first.code, first.message).toBe(0);
    // What leaves outright is 0.0101 BTC; the whole input is at risk and is what velocity counts.
    expect(app.velocityRows().at(-1)).toEqual({ rule: 'none-allowed', raw: String(INPUT) });

    const before = app.signatureCount();
    const second = app.sign(shape(app.pub['vault-n']!), 'none-2');
    expect(second.error, second.message).toBe('POLICY_DENIED');
    expect(second.code).toBe(4);
    expect(second.message).toMatch(/velocity limit of rule none-allowed/);
    expect(app.signatureCount()).toBe(before);
  });
});
