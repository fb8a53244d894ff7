/**
 * evaluate(summary, policy, history, now) → Decision (pure). Default deny (SPEC "Policy document"):
 * a request is allowed only when at least one rule matches all of it; the first such rule in
 * document order decides the approvals required. Every rule that does not match says why.
 */
import type { Decision, RuleReason, SigningSummary } from '../core/summary.js';
import { requestTotals } from './amounts.js';
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
  const ctx: RuleContext = { summary, kind: policyKindOf(summary), totals, history, now };
  const reasons: RuleReason[] = [];
  for (const rule of policy.rules) {
    const mismatch = chainMismatch(rule, summary);
    const failures = mismatch ? [mismatch] : RULE_CHECKS.flatMap((check) => check(rule, ctx));
    if (failures.length === 0) {
      const approvals = rule.approvals ?? 0;
      const needs =
        approvals === 0
          ? 'no officer approval'
          : `${approvals} officer approval${approvals === 1 ? '' : 's'}`;
      reasons.push({
        rule: rule.id,
        ok: true,
        message: `Rule ${rule.id} allows this request; it needs ${needs}.`,
      });
      return { allowed: true, rule: rule.id, requiredApprovals: approvals, reasons };
    }
    for (const failure of failures) reasons.push({ rule: rule.id, ok: false, message: sentence(failure) });
  }
  if (policy.rules.length === 0) {
    reasons.push({
      rule: DEFAULT_RULE,
      ok: false,
      message: `Policy version ${policy.version} has no rules, so nothing may be signed.`,
    });
  } else {
    reasons.push({ rule: DEFAULT_RULE, ok: false, message: 'No rule allows this request (default deny).' });
  }
  return deny(reasons);
}

function sentence(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}
