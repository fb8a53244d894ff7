/**
 * The byte-encoded set of request ids that a verification worker sends for the ids a range closed
 * (store/request-id-set.ts): membership is exact for any string — ids holding newlines, quotes, backslashes,
 * lone surrogates (which UTF-8 alone would turn into the same U+FFFD), ids that are parts of other ids or of two
 * neighbouring records; the fingerprint set never misses an id it was made of, and two ids ground to collide
 * show why a match only ever leads to an exact check.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeRequestIdSet,
  fingerprintRequestIds,
  fingerprintsMayHold,
  requestIdFingerprint,
  requestIdSetHas,
} from '../../store/request-id-set.js';

const NASTY = [
  '',
  'a',
  'b',
  'ab',
  'a\n',
  '\n',
  '\n"a"\n',
  '"a"',
  'a"\n"b',
  '\\',
  '\\n',
  'x\uD800',
  'x\uD801',
  'x\uFFFD',
];

describe('request id set', () => {
  it('an empty set is zero bytes and holds nothing', () => {
    const set = encodeRequestIdSet([]);
    expect(set.byteLength).toBe(0);
    for (const id of NASTY) expect(requestIdSetHas(set, id)).toBe(false);
  });

  it('holds exactly the ids it was made of, for ids built to confuse a byte search', () => {
    // a spread of subsets of the nasty ids as members, the rest as probes that must not be found
    for (let mask = 0; mask < 1 << NASTY.length; mask += 997) {
      const members = NASTY.filter((_, i) => mask & (1 << i));
      const set = encodeRequestIdSet(members);
      for (const id of NASTY) expect([id, requestIdSetHas(set, id)]).toEqual([id, members.includes(id)]);
    }
    // a lone surrogate is not its replacement character, nor another lone surrogate
    const set = encodeRequestIdSet(['x\uD800']);
    expect(requestIdSetHas(set, 'x\uD800')).toBe(true);
    expect(requestIdSetHas(set, 'x\uD801')).toBe(false);
    expect(requestIdSetHas(set, 'x\uFFFD')).toBe(false);
    // two neighbouring records do not make the id spanning them
    const pair = encodeRequestIdSet(['a', 'b']);
    expect(requestIdSetHas(pair, 'a"\n"b')).toBe(false);
    expect(requestIdSetHas(pair, 'a\nb')).toBe(false);
  });

  it('agrees with a Set on random strings of any code units', () => {
    const id = fc.string({
      unit: fc.constantFrom('a', '"', '\\', '\n', '\u0000', '\uD800', '\uDC00', '\uFFFD', 'é'),
      maxLength: 6,
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(id, { maxLength: 12 }),
        fc.array(id, { maxLength: 12 }),
        (members, probes) => {
          const set = encodeRequestIdSet(members);
          for (const probe of [...members, ...probes])
            expect(requestIdSetHas(set, probe)).toBe(members.includes(probe));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('is a buffer of its own, so a worker can transfer it', () => {
    const set = encodeRequestIdSet(['r1', 'r2']);
    expect(set.byteOffset).toBe(0);
    expect(set.buffer.byteLength).toBe(set.byteLength);
  });

  it('a fingerprint set holds every id it was made of', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 70 }), { maxLength: 50 }), (ids) => {
        const set = fingerprintRequestIds(ids);
        expect(set.length).toBe(ids.length);
        for (const id of ids) expect(fingerprintsMayHold(set, id)).toBe(true);
      }),
      { numRuns: 500 },
    );
    expect(fingerprintsMayHold(fingerprintRequestIds([]), 'r1')).toBe(false);
    expect(fingerprintsMayHold(fingerprintRequestIds(['r1', 'r2', 'r3']), 'r4')).toBe(false);
  });

  it('two ids ground to share a fingerprint match each other (a match is never taken as membership)', () => {
    // found by trying collide-0, collide-1, … (32 bits: a birthday search of ~100,000 ids)
    expect(requestIdFingerprint('collide-63438')).toBe(requestIdFingerprint('collide-318226'));
    expect(fingerprintsMayHold(fingerprintRequestIds(['collide-318226']), 'collide-63438')).toBe(true);
  });
});
