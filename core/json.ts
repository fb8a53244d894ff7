/**
 * The one JSON reader for input from outside the process (policy documents, request documents,
 * approvals, config, audit exports). RFC 8259 §4 leaves duplicate member names to the reader
 * ("the names within an object SHOULD be unique"); JSON.parse keeps the last value silently, so a
 * document whose signer saw one value could be applied with another. Here a duplicate name is refused.
 * JSON.parse gives the values; @humanwhocodes/momoa's syntax tree (with positions) finds duplicates.
 */
import { parse as parseTree, type AnyNode as Node } from '@humanwhocodes/momoa';
import { makeError, type ErrorCode } from './errors.js';

/**
 * Parses `text` as strict JSON. `what` names the document in the sentence ("The policy document
 * policy.json"); a syntax error ends in `invalidCode`, a repeated member name in JSON_DUPLICATE_KEY.
 */
export function parseJsonStrict(text: string, what: string, invalidCode: ErrorCode): unknown {
  let value: unknown;
  let root: Node;
  try {
    value = JSON.parse(text);
    root = parseTree(text, { mode: 'json' }).body;
  } catch (error) {
    // A stack overflow on absurd nesting is refused like any other malformed document.
    const reason =
      error instanceof SyntaxError ? 'is not valid JSON' : 'is not readable JSON (nested too deeply)';
    throw makeError(invalidCode, `${what} ${reason}.`);
  }
  const duplicate = findDuplicateKey(root);
  if (duplicate) {
    throw makeError(
      'JSON_DUPLICATE_KEY',
      `${what} has the key "${duplicate.name}" more than once (line ${duplicate.line}); duplicate keys are refused because readers disagree on which value counts.`,
      { key: duplicate.name, line: duplicate.line },
    );
  }
  return value;
}

/** The first member name repeated inside one object (names compared after unescaping), walked without recursion. */
function findDuplicateKey(root: Node): { name: string; line: number } | undefined {
  const pending: Node[] = [root];
  while (pending.length > 0) {
    const node = pending.pop()!;
    if (node.type === 'Object') {
      const seen = new Set<string>();
      for (const member of node.members) {
        const name = member.name.type === 'String' ? member.name.value : member.name.name;
        if (seen.has(name)) return { name: printable(name), line: member.name.loc.start.line };
        seen.add(name);
        pending.push(member.value);
      }
    } else if (node.type === 'Array') {
      for (const element of node.elements) pending.push(element.value);
    }
  }
  return undefined;
}

/** A key as it may be quoted in a sentence: control characters escaped, length bounded. */
function printable(name: string): string {
  const escaped = JSON.stringify(name).slice(1, -1);
  return escaped.length > 64 ? `${escaped.slice(0, 61)}...` : escaped;
}
