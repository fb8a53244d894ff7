/**
 * Bitcoin-only checks of one rule (pure), registered in RULE_CHECKS: sighash types (BIP-143/legacy), the
 * value put at risk by NONE/SINGLE, witness_utxo-only amounts (CVE-2020-14199), and the default fee sanity
 * limits. Also what the policy lets the PSBT summarizer accept (btcPrepareOptions).
 */
import { parseWalletDescriptor, type RegisteredWallet } from '../core/btc-wallet.js';
import { BTC_DEFAULT_FEE_LIMITS, type BtcPolicyFacts } from '../core/summary.js';
import { btcCountedLeaving, formatUnits, toBaseUnits } from './amounts.js';
import type { RuleContext } from './checks.js';
import { BTC_SIGHASH_TYPES, type PolicyDocument, type PolicyRule } from './schema.js';
import { usageInWindow } from './velocity.js';

type BtcCheck = (rule: PolicyRule, facts: BtcPolicyFacts, ctx: RuleContext) => string[];

const btc = (text: bigint) => `${formatUnits(text, 8)} BTC`;

/** Only SIGHASH_ALL unless the rule names the type (NONE/SINGLE would let the outputs be rewritten). */
const sighash: BtcCheck = (rule, facts) => {
  const allowed: readonly string[] = rule.sighashTypes ?? ['ALL'];
  return facts.sighashTypes
    .filter((type) => !allowed.includes(type))
    .map((type) => `rule ${rule.id} does not allow signatures with SIGHASH_${type}`);
};

/** True when some input of ours is signed with NONE or SINGLE (BIP-143 / legacy sighash: outputs not committed). */
function redirectable(facts: BtcPolicyFacts): boolean {
  return facts.sighashTypes.some((type) => !type.startsWith('ALL'));
}

/**
 * Value at risk counts against the caps: NONE/SINGLE inputs can be redirected whole after signing, and change
 * is not credited while a foreign input's amount is unproven. The same counted value is what requestTotals
 * records as spent, so later requests see it in the velocity history.
 */
const valueAtRisk: BtcCheck = (rule, facts, { history, now }) => {
  const atRisk = BigInt(facts.atRiskSats);
  if (atRisk === 0n) return [];
  if (rule.maxAmount === undefined && redirectable(facts))
    return [`rule ${rule.id} sets no maxAmount to cap the ${btc(atRisk)} at risk under NONE/SINGLE`];
  const counted = btcCountedLeaving(facts);
  const why = redirectable(facts)
    ? 'inputs signed with NONE or SINGLE'
    : 'change not credited while an input amount is unproven';
  const reasons: string[] = [];
  if (rule.maxAmount !== undefined && counted > toBaseUnits(rule.maxAmount, 8)) {
    reasons.push(
      `${btc(counted)} is at risk (${why}), above the ${rule.maxAmount} BTC limit of rule ${rule.id}`,
    );
  }
  const velocityMax = rule.velocity?.maxAmount;
  if (velocityMax !== undefined) {
    const spent = usageInWindow(history, rule.id, rule.velocity!.window, now).amounts.get('native') ?? 0n;
    if (spent + counted > toBaseUnits(velocityMax, 8)) {
      reasons.push(
        `${btc(counted)} at risk (${why}) plus ${btc(spent)} already signed exceeds the ${velocityMax} BTC velocity limit of rule ${rule.id}`,
      );
    }
  }
  return reasons;
};

/** CVE-2020-14199: an amount from witness_utxo alone is the PSBT's claim; only an opted-in rule accepts it. */
const witnessUtxoOnly: BtcCheck = (rule, facts) => {
  if (facts.feeStatus !== 'unverified' || rule.allowWitnessUtxoOnly) return [];
  return [
    `one of our inputs proves its amount with witness_utxo only, which rule ${rule.id} does not allow (allowWitnessUtxoOnly)`,
  ];
};

/** Without a fee cap of its own, a rule refuses a fee above 5% of the amount sent or above 1000 sat/vB. */
const defaultFeeLimits: BtcCheck = (rule, facts) => {
  if (rule.maxFee !== undefined || rule.maxFeeRate !== undefined || rule.maxFeePercent !== undefined)
    return [];
  const fee = BigInt(facts.feeSats);
  const sent = BigInt(facts.sentSats);
  const base = sent > 0n ? sent : BigInt(facts.ourInputSats);
  const { percentOfSent, satPerVbyte } = BTC_DEFAULT_FEE_LIMITS;
  const reasons: string[] = [];
  const what = facts.feeStatus === 'unknown' ? 'our share of the fee (at most)' : 'the fee';
  if (fee * 100n > base * BigInt(percentOfSent)) {
    reasons.push(
      `${what} of ${btc(fee)} is more than ${percentOfSent}% of the ${btc(base)} sent, the default limit of a rule without a fee cap (rule ${rule.id})`,
    );
  }
  if (facts.feeRate !== null && facts.feeRate > satPerVbyte) {
    reasons.push(
      `the fee rate of ${facts.feeRate} sat/vB is above ${satPerVbyte} sat/vB, the default limit of a rule without a fee cap (rule ${rule.id})`,
    );
  }
  return reasons;
};

const CHECKS: readonly BtcCheck[] = [sighash, valueAtRisk, witnessUtxoOnly, defaultFeeLimits];

/** The Bitcoin checks, in the form of RULE_CHECKS (they pass for other chains). */
export function btcChecks(rule: PolicyRule, ctx: RuleContext): string[] {
  const facts = ctx.summary.btc;
  if (rule.chain !== 'btc' || ctx.summary.chain !== 'btc') return [];
  // A message (BIP-322, legacy) spends nothing: no sighash, fee or amount to check (policy/checks.ts sizes it).
  if (ctx.kind === 'message') return [];
  if (!facts) return ['the Bitcoin request carries no reviewed facts (sighash types, fee status)'];
  return CHECKS.flatMap((check) => check(rule, facts, ctx));
}

/** What the PSBT summarizer may accept under `policy`: the union over its Bitcoin rules, and its wallets. */
export function btcPrepareOptions(policy: PolicyDocument | null | undefined): {
  sighashTypes: number[];
  allowWitnessUtxoOnly: boolean;
  wallets: RegisteredWallet[];
} {
  const rules = (policy?.rules ?? []).filter((rule) => rule.chain === 'btc');
  return {
    sighashTypes: [...new Set(rules.flatMap((r) => (r.sighashTypes ?? []).map((t) => BTC_SIGHASH_TYPES[t])))],
    allowWitnessUtxoOnly: rules.some((r) => r.allowWitnessUtxoOnly === true),
    wallets: (policy?.wallets ?? []).map((w) => parseWalletDescriptor(w.name, w.descriptor, w.network)),
  };
}
