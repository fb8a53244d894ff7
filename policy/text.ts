/**
 * A policy document as text, the one way a policy enters (CLI file, app IPC): bounded in size, then read by the
 * strict JSON reader, so a repeated key (RFC 8259 §4 leaves it to the reader) is refused with JSON_DUPLICATE_KEY
 * in every front end instead of being resolved differently by each one.
 */
import { makeError } from '../core/errors.js';
import { parseJsonStrict } from '../core/json.js';

/** The largest policy document read, in UTF-8 bytes (the CLI's file and the app's IPC text alike). */
export const MAX_POLICY_BYTES = 1024 * 1024;

/** Parses policy text strictly; `what` names it in the sentence ("The policy file policy.json"). */
export function parsePolicyText(text: string, what = 'The policy document'): unknown {
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES) {
    throw makeError('POLICY_INVALID', `${what} is larger than ${MAX_POLICY_BYTES / 1024 / 1024} MiB.`);
  }
  return parseJsonStrict(text, what, 'POLICY_INVALID');
}
