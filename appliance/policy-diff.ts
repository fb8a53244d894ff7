/**
 * The change between two policy documents, per rule (matched by id) and per field, in plain lines:
 *   "+ rule large added", "- rule small removed", "~ rule large: approvals 2 → 0",
 *   "~ approvalExpiry: (not set) → 12h". Signatures are not part of the policy's meaning and are left out.
 */
import { canonicalJson } from '../policy/canonical.js';
import type { PolicyDocument } from '../policy/schema.js';

function show(value: unknown): string {
  if (value === undefined) return '(not set)';
  return typeof value === 'string' ? value : canonicalJson(value);
}

function fieldChanges(
  prefix: string,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  skip: string[],
): string[] {
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((f) => !skip.includes(f))
    .sort();
  return fields.flatMap((field) => {
    const a = before[field];
    const b = after[field];
    if (a !== undefined && b !== undefined && canonicalJson(a) === canonicalJson(b)) return [];
    if (a === undefined && b === undefined) return [];
    return [`~ ${prefix}${field} ${show(a)} → ${show(b)}`];
  });
}

export function policyDiff(before: PolicyDocument | null, after: PolicyDocument): string[] {
  const lines = fieldChanges(
    '',
    (before ?? {}) as Record<string, unknown>,
    after as Record<string, unknown>,
    ['rules', 'signatures'],
  ).map((line) => line.replace(/^~ (\S+) /, '~ $1: '));
  const old = new Map((before?.rules ?? []).map((rule) => [rule.id, rule]));
  const next = new Map(after.rules.map((rule) => [rule.id, rule]));
  for (const [id, rule] of old)
    if (!next.has(id)) lines.push(`- rule ${id} removed (was ${canonicalJson(rule)})`);
  for (const [id, rule] of next) {
    const was = old.get(id);
    if (!was) {
      lines.push(`+ rule ${id} added: ${canonicalJson(rule)}`);
      continue;
    }
    lines.push(
      ...fieldChanges(`rule ${id}: `, was as Record<string, unknown>, rule as Record<string, unknown>, [
        'id',
      ]),
    );
  }
  const order = [...old.keys()].filter((id) => next.has(id));
  const nextOrder = [...next.keys()].filter((id) => old.has(id));
  if (order.join('\n') !== nextOrder.join('\n'))
    lines.push(`~ rule order: ${order.join(', ')} → ${nextOrder.join(', ')}`);
  return lines;
}
