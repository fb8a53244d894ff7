/**
 * zod's generic issues in an operator's words (pure): "must be more than 0", "must list at least 1 item",
 * "must be one of mainnet, testnet". parsePolicy puts the field path in front ("Policy field rules[0].maxFeeRate: …").
 * Messages a schema sets itself take precedence over these.
 */
import type { z } from 'zod';

function count(n: number | bigint, what: string): string {
  return `${n} ${what}${Number(n) === 1 ? '' : 's'}`;
}

const TYPE_NAMES: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'text in quotes',
  boolean: 'true or false',
  array: 'a list [ … ]',
  object: 'an object { … }',
};

function sizeWords(origin: string, bound: number | bigint, inclusive: boolean, side: 'min' | 'max'): string {
  if (origin === 'array' || origin === 'set')
    return side === 'min'
      ? `must list at least ${count(inclusive ? bound : Number(bound) + 1, 'item')}`
      : `must list at most ${count(inclusive ? bound : Number(bound) - 1, 'item')}`;
  if (origin === 'string')
    return side === 'min'
      ? `must have at least ${count(inclusive ? bound : Number(bound) + 1, 'character')}`
      : `must have at most ${count(inclusive ? bound : Number(bound) - 1, 'character')}`;
  const word = side === 'min' ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than';
  return `must be ${word} ${bound}`;
}

/** The per-parse error map of policySchema.safeParse: plain words for each zod issue code. */
export function operatorMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'is required';
      return `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    }
    case 'too_small':
      return sizeWords(String(issue.origin), issue.minimum as number, issue.inclusive ?? true, 'min');
    case 'too_big':
      return sizeWords(String(issue.origin), issue.maximum as number, issue.inclusive ?? true, 'max');
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      return 'is not in the expected format';
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (check the spelling)`;
    case 'invalid_union':
      return 'does not match any of the allowed shapes';
    case 'invalid_key':
    case 'invalid_element':
      return 'has an entry that is not allowed';
    default:
      return undefined;
  }
}
