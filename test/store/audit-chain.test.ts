import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalPayload, entryHash } from '../../store/audit-chain.js';

describe('audit entry hash', () => {
  it('is SHA-256 of JSON ["coldsign-audit/1",seq,time,type,prev] + "\\n" + payload, for any strings', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.string({ unit: 'binary' }),
        fc.string(),
        fc.string(),
        fc.string({ unit: 'binary' }),
        (seq, time, type, prev, payload) => {
          const expected = createHash('sha256')
            .update(`${JSON.stringify(['coldsign-audit/1', seq, time, type, prev])}\n${payload}`)
            .digest('hex');
          expect(entryHash(seq, time, type, payload, prev)).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
    expect(entryHash(1, 'a"b\\c', 't', '{}', '0'.repeat(64))).toBe(
      createHash('sha256')
        .update(`["coldsign-audit/1",1,"a\\"b\\\\c","t","${'0'.repeat(64)}"]\n{}`)
        .digest('hex'),
    );
  });

  it('canonicalizes payloads (RFC 8785) and refuses secrets by field-name words', () => {
    expect(canonicalPayload({ z: 1, a: [1e21, 'é'] })).toBe('{"a":[1e+21,"é"],"z":1}');
    for (const field of [
      'pin',
      'soPin',
      'user_pin',
      'passphrase',
      'privateKey',
      'seedWords',
      'xprv',
      'clientSecret',
    ]) {
      expect(() => canonicalPayload({ [field]: 'x' })).toThrow(
        expect.objectContaining({ code: 'AUDIT_SECRET_REFUSED' }),
      );
    }
    for (const field of ['pinnedSeq', 'spinner', 'publicKey', 'keyId', 'signature'])
      expect(() => canonicalPayload({ [field]: 'x' })).not.toThrow();
    expect(() => canonicalPayload([1])).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    // request content from the coordinator (e.g. EIP-712 fields) is logged verbatim, whatever its field names
    expect(() =>
      canonicalPayload({ requestId: 'x', summary: { typedData: { message: { password: 'hunter2' } } } }),
    ).not.toThrow();
    expect(() => canonicalPayload({ requestId: 'x', nested: { pin: '1234' } })).toThrow(
      expect.objectContaining({ code: 'AUDIT_SECRET_REFUSED' }),
    );
  });
});
