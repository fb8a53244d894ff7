/**
 * What an "audit.discarded" entry records of a dropped tail (store/audit-discards.ts) and how `audit verify`
 * ties an unfinished signing to the discard that dropped its signature entries (appliance/audit-discard-report.ts).
 */
import { describe, expect, it } from 'vitest';
import { parseDiscardDetail, TailRecord } from '../../store/audit-discards.js';
import { discardReports } from '../../appliance/audit-discard-report.js';

const ID_A = 'aa'.repeat(32);
const ID_B = 'bb'.repeat(32);
const HEAD = 'cc'.repeat(32);

describe('the record of a discarded tail', () => {
  it('counts types, keeps the request ids of signing entries that are request ids, and copies no other name', () => {
    const record = new TailRecord();
    record.add('signature', JSON.stringify({ requestId: ID_B }));
    record.add('signing.started', JSON.stringify({ requestIds: [ID_A, ID_B, 'not-a-request-id'] }));
    record.add('officer.enrolled', JSON.stringify({ requestId: ID_A.replace('a', 'd') }));
    record.add('Not-A-Type', '{}');
    record.add('signature', 'not json');
    expect(record.payload(7, 11, HEAD)).toEqual({
      pinnedSeq: 7,
      discardedFrom: 8,
      discardedTo: 11,
      discardedHead: HEAD,
      types: [
        { type: null, count: 1 },
        { type: 'officer.enrolled', count: 1 },
        { type: 'signature', count: 2 },
        { type: 'signing.started', count: 1 },
      ],
      signingRequestIds: [ID_A, ID_B],
    });
  });

  it('reads a recorded payload field by field, leaving out what does not have its shape', () => {
    const payload = JSON.stringify({
      pinnedSeq: 3,
      discardedFrom: 4,
      discardedTo: 5,
      discardedHead: HEAD,
      types: [{ type: 'signature', count: 1 }, { type: 'Bad Name', count: 1 }, { type: null, count: 2 }, 'x'],
      signingRequestIds: [ID_A, 7, 'short'],
      extra: 'ignored',
    });
    expect(parseDiscardDetail(payload)).toEqual({
      pinnedSeq: 3,
      discardedFrom: 4,
      discardedTo: 5,
      discardedHead: HEAD,
      types: [
        { type: 'signature', count: 1 },
        { type: null, count: 2 },
      ],
      signingRequestIds: [ID_A],
    });
    expect(parseDiscardDetail('{"pinnedSeq":3}')).toBeUndefined();
    expect(parseDiscardDetail('not json')).toBeUndefined();
  });
});

describe('a discard whose own entry is discarded (a crash before its checkpoint)', () => {
  const detail = (pinnedSeq: number, type: string) => ({
    pinnedSeq,
    discardedFrom: pinnedSeq + 1,
    discardedTo: pinnedSeq + 2,
    discardedHead: HEAD,
    types: [{ type, count: 2 }],
  });

  it('carries the detail it recorded forward, flat and oldest first, each shape checked', () => {
    const record = new TailRecord();
    record.add(
      'audit.discarded',
      JSON.stringify({
        ...detail(3, 'signature'),
        earlierDiscards: [detail(3, 'request'), { pinnedSeq: 'x' }],
      }),
    );
    record.add('audit.discarded', '{"not":"a discard"}');
    expect(record.payload(3, 5, HEAD)).toEqual({
      pinnedSeq: 3,
      discardedFrom: 4,
      discardedTo: 5,
      discardedHead: HEAD,
      types: [{ type: 'audit.discarded', count: 2 }],
      earlierDiscards: [detail(3, 'request'), detail(3, 'signature')],
    });
  });

  it('ties the signing whose signature the carried detail dropped', () => {
    const reports = discardReports(
      [
        {
          seq: 9,
          time: '2026-03-01T12:00:00.000Z',
          ...detail(8, 'audit.discarded'),
          earlierDiscards: [detail(8, 'signature')],
        },
      ],
      [{ seq: 8, requestIds: [ID_A] }],
    );
    expect(reports[0]!.unfinishedSignings).toEqual([{ seq: 8, requestIds: [ID_A] }]);
  });
});

describe('unfinished signings tied to the discard that dropped their signature entries', () => {
  const discard = (seq: number, pinnedSeq: number, type: string, ids?: string[]) => ({
    seq,
    time: '2026-03-01T12:00:00.000Z',
    pinnedSeq,
    discardedFrom: pinnedSeq + 1,
    discardedTo: pinnedSeq + 1,
    discardedHead: HEAD,
    types: [{ type, count: 1 }],
    ...(ids ? { signingRequestIds: ids } : {}),
  });

  it('a discard of a signature right after the announcement; not a later discard of a review over the same pin', () => {
    const reports = discardReports(
      [discard(6, 5, 'request'), discard(9, 8, 'signature'), discard(12, 11, 'decision')],
      [
        { seq: 5, requestIds: [ID_A] },
        { seq: 8, requestIds: [ID_B] },
      ],
    );
    expect(reports.map((r) => r.unfinishedSignings)).toEqual([[], [{ seq: 8, requestIds: [ID_B] }], []]);
  });

  it('a discard whose recorded request ids name the signing, even with no signature counted', () => {
    const reports = discardReports([discard(9, 8, 'test.other', [ID_A])], [{ seq: 8, requestIds: [ID_A] }]);
    expect(reports[0]!.unfinishedSignings).toEqual([{ seq: 8, requestIds: [ID_A] }]);
  });
});
