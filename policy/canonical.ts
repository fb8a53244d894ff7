/**
 * RFC 8785 JSON Canonicalization Scheme through the `canonicalize` package. The package is
 * CommonJS (`module.exports = serialize`) while its typings declare an ES default export; this
 * wrapper gives one correctly typed function to policy/ and store/.
 */
import canonicalizeModule from 'canonicalize';

type Serialize = (input: unknown) => string | undefined;

const serialize: Serialize =
  typeof canonicalizeModule === 'function'
    ? (canonicalizeModule as Serialize)
    : (canonicalizeModule as unknown as { default: Serialize }).default;

/** RFC 8785 canonical JSON of `value`; throws TypeError for values JSON cannot carry. */
export function canonicalJson(value: unknown): string {
  const text = serialize(value);
  if (text === undefined) throw new TypeError('value has no JSON form');
  return text;
}
