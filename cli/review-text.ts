/**
 * The human-readable review an operator checks line by line before signing (CLI without --json): a thin text
 * formatter of the review model (appliance/review-model.ts), which the app's review screen and the --json report's
 * `review` also render. Verdict and headline first; every movement; fee lines; warnings by severity; the closest
 * rule's reasons, the other rules' reasons counted (all of them are in --json).
 */
import type { ReviewModel, ReviewMovement } from '../appliance/review-model.js';

const SEVERITY_TAGS = { danger: 'DANGER', warning: 'WARNING', info: 'NOTE' } as const;

function movementLine(m: ReviewMovement, index: number): string {
  const tag =
    (m.callOnly ? '  [call, no value sent]' : '') +
    (!m.leaves
      ? `  [change, back to ${m.label ?? 'our key'}]`
      : m.label
        ? `  "${m.label}" (allowlisted)`
        : '  (on no allowlist)');
  const to = m.to ?? '(no address: data output)';
  const extra = [
    m.token && m.channel === 'approval' ? `token ${m.token}` : null,
    m.from ? `from ${m.from}` : null,
    m.deadlineText ? `expires ${m.deadlineText}` : null,
  ].filter(Boolean);
  return `    ${index + 1}. ${m.channelName}: ${m.amount} → ${to}${tag}${extra.length ? `\n       ${extra.join(', ')}` : ''}`;
}

function verdictLine(model: ReviewModel): string {
  const v = model.verdict;
  if (v.refusedBy === 'outpoint-ledger')
    return 'Outpoint ledger: REFUSED — an input was signed before under another claim; no policy change can allow this request';
  if (!v.allowed) return 'Policy: REFUSED — this request cannot be signed';
  const given = v.approvalsGiven
    ? `, ${v.approvalsGiven.length} given${v.approvalsGiven.length ? ` (${v.approvalsGiven.join(', ')})` : ''}`
    : '';
  return `Policy: ALLOWED by rule ${v.rule}; ${v.requiredApprovals} officer approval(s) required${given}`;
}

export function formatReview(model: ReviewModel): string {
  const lines: string[] = [];
  const v = model.verdict;
  lines.push(verdictLine(model));
  lines.push(`  ${model.headline.text}`);
  for (const approval of model.headline.approvals) lines.push(`  ${approval}`);
  for (const reason of v.reasons) lines.push(`  ${reason.ok ? 'ok ' : 'no '} ${reason.message}`);
  if (v.folded.length)
    lines.push(
      `  (${v.folded.length} more reason(s) from ${new Set(v.folded.map((r) => r.rule)).size} other rule(s); every reason is in --json)`,
    );
  lines.push(`Request ${model.requestId}`);
  lines.push(
    `  ${model.network}, ${model.kindName}, signed by: ${model.signingKeys.join(', ') || 'none of our keys'}`,
  );
  if (model.from) lines.push(`  From ${model.from}`);
  for (const fact of model.facts) lines.push(`  ${fact.label}: ${fact.value}`);
  if (model.movements.length) {
    lines.push('  Movements:');
    model.movements.forEach((m, i) => lines.push(movementLine(m, i)));
  }
  for (const fee of model.fees) lines.push(`  ${fee.label}: ${fee.value}`);
  if (model.call) {
    lines.push(`  Contract call: ${model.call.function} on ${model.call.contract}`);
    for (const arg of model.call.args) lines.push(`    ${arg.label} = ${arg.value}`);
  }
  if (model.typedData)
    lines.push(
      `  Typed data: ${model.typedData.primaryType}, domain ${model.typedData.domain.map((d) => `${d.label}=${d.value}`).join(', ')}`,
    );
  if (model.message)
    lines.push(
      `  Message: ${model.message.text !== null ? JSON.stringify(model.message.text) : model.message.hex}`,
    );
  for (const warning of model.warnings) lines.push(`  ${SEVERITY_TAGS[warning.severity]}: ${warning.text}`);
  return lines.join('\n');
}
