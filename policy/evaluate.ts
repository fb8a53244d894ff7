/**
 * evaluate(summary, policy, history, now) → Decision (pure). Default deny (SPEC "Policy document"):
 * a request is allowed only when at least one rule matches all of it; the first such rule in
 * document order decides the approvals required. Every rule that does not match says why; when
 * none matches, the closest rule (the one of the request's chain that failed on the fewest checks)
 * is named and its reasons come first.
 */
import type { Decision, RuleReason, SigningSummary } from '../core/summary.js';
import { requestTotals, transferTotals } from './amounts.js';
import { chainMismatch, RULE_CHECKS, type RuleContext } from './checks.js';
import type { PolicyDocument, PolicyKind } from './schema.js';
import type { VelocityHistory } from './velocity.js';

const DEFAULT_RULE = '(default)';

/** The policy kind of a request: what it does, independent of its encoding. */
export function policyKindOf(summary: SigningSummary): PolicyKind {
  if (summary.kind === 'message') return 'message';
  if (summary.kind === 'typed_data') return 'typed_data';
  if (summary.chain === 'btc') return 'transfer';
  const category = summary.call?.category ?? '';
  const movesToken = summary.movements.some((m) => m.asset.type === 'token');
  if (movesToken && /^erc20-transfer(-?from)?$/i.test(category) && !summary.blind) return 'token_transfer';
  if (summary.call || summary.blind) return 'contract_call';
  return 'transfer';
}

export function evaluate(
  summary: SigningSummary,
  policy: PolicyDocument | null | undefined,
  history: VelocityHistory,
  now: Date,
): Decision {
  const deny = (reasons: RuleReason[]): Decision => ({
    allowed: false,
    rule: null,
    requiredApprovals: 0,
    reasons,
  });
  if (!policy) {
    return deny([
      {
        rule: DEFAULT_RULE,
        ok: false,
        message: 'No policy is in force, so nothing may be signed (default deny).',
      },
    ]);
  }
  const totals = requestTotals(summary);
  if (!totals) {
    return deny([
      {
        rule: DEFAULT_RULE,
        ok: false,
        message: 'An amount of the request is not a whole number of base units.',
      },
    ]);
  }
  const { totals: transfers, unbounded: unboundedTransfers } = transferTotals(summary);
  const ctx: RuleContext = {
    summary,
    kind: policyKindOf(summary),
    totals,
    transfers,
    unboundedTransfers,
    history,
    now,
  };
  const failed: Array<{ rule: string; sameChain: boolean; inScope: boolean; failures: string[] }> = [];
  for (const rule of policy.rules) {
    const mismatch = chainMismatch(rule, summary);
    const perCheck = mismatch ? [[mismatch]] : RULE_CHECKS.map((check) => check(rule, ctx));
    const failures = perCheck.flat();
    if (failures.length === 0) {
      const approvals = rule.approvals ?? 0;
      const needs =
        approvals === 0
          ? 'no officer approval'
          : `${approvals} officer approval${approvals === 1 ? '' : 's'}`;
      const reasons = failed.flatMap(({ rule: id, failures: f }) => reasonsOf(id, f));
      reasons.push({
        rule: rule.id,
        ok: true,
        message: `Rule ${rule.id} allows this request; it needs ${needs}.`,
      });
      return { allowed: true, rule: rule.id, requiredApprovals: approvals, reasons };
    }
    // RULE_CHECKS[0] is the scope (chain id, kind, keys): a rule whose scope fits is closer than one whose does not.
    failed.push({
      rule: rule.id,
      sameChain: !mismatch,
      inScope: !mismatch && perCheck[0]!.length === 0,
      failures,
    });
  }
  // The refusal names the rule the request was most likely meant for: its scope fits, then fewest failures.
  const closest = failed
    .filter((f) => f.sameChain)
    .reduce<(typeof failed)[number] | null>(
      (best, f) =>
        best === null ||
        (f.inScope && !best.inScope) ||
        (f.inScope === best.inScope && f.failures.length < best.failures.length)
          ? f
          : best,
      null,
    );
  const ordered = closest ? [closest, ...failed.filter((f) => f !== closest)] : failed;
  const reasons = ordered.flatMap(({ rule: id, failures }) => reasonsOf(id, failures));
  if (policy.rules.length === 0) {
    reasons.push({
      rule: DEFAULT_RULE,
      ok: false,
      message: `Policy version ${policy.version} has no rules, so nothing may be signed.`,
    });
  } else {
    reasons.push({ rule: DEFAULT_RULE, ok: false, message: 'No rule allows this request (default deny).' });
  }
  return { ...deny(reasons), closestRule: closest?.rule ?? null };
}

function reasonsOf(rule: string, failures: string[]): RuleReason[] {
  return failures.map((failure) => ({ rule, ok: false, message: sentence(failure) }));
}

function sentence(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}
