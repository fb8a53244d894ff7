/** core/bounded-memo.ts: the shared memo of derived public values whose memory is bounded. */
import { describe, expect, it } from 'vitest';
import { BoundedMemo } from '../../core/bounded-memo.js';

describe('bounded memo', () => {
  it('answers what was kept, and nothing for a key never kept', () => {
    const memo = new BoundedMemo<string, number>(4);
    memo.set('a', 1);
    expect(memo.get('a')).toBe(1);
    expect(memo.get('b')).toBeUndefined();
  });

  it('is emptied before a new key is kept once it holds its limit', () => {
    const memo = new BoundedMemo<string, number>(2);
    memo.set('a', 1);
    memo.set('b', 2);
    memo.set('c', 3);
    expect(memo.size).toBe(1);
    expect(memo.get('a')).toBeUndefined();
    expect(memo.get('c')).toBe(3);
  });

  it('replacing a kept key when full keeps the others', () => {
    const memo = new BoundedMemo<string, number>(2);
    memo.set('a', 1);
    memo.set('b', 2);
    memo.set('a', 10);
    expect(memo.size).toBe(2);
    expect([memo.get('a'), memo.get('b')]).toEqual([10, 2]);
  });

  it('never holds more than its limit, whatever the stream of keys', () => {
    const memo = new BoundedMemo<number, number>(3);
    for (let i = 0; i < 100; i++) {
      memo.set(i, i);
      expect(memo.size).toBeLessThanOrEqual(3);
    }
  });

  it('refuses a limit below one', () => {
    expect(() => new BoundedMemo(0)).toThrow(RangeError);
    expect(() => new BoundedMemo(1.5)).toThrow(RangeError);
  });
});
