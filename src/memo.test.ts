import { describe, expect, it } from 'vitest';
import { BoundedMemo } from './memo.js';

describe('BoundedMemo', () => {
  it('answers what was set, and starts over once a new key would pass its bound', () => {
    const memo = new BoundedMemo<string, number>(2);
    expect(memo.set('a', 1)).toBe(1);
    memo.set('b', 2);
    expect([memo.get('a'), memo.get('b'), memo.size]).toEqual([1, 2, 2]);
    memo.set('b', 3); // a key it holds is replaced, nothing forgotten
    expect([memo.get('a'), memo.get('b'), memo.size]).toEqual([1, 3, 2]);
    memo.set('c', 4);
    expect([memo.get('a'), memo.get('b'), memo.get('c'), memo.size]).toEqual([undefined, undefined, 4, 1]);
  });

  it('keeps null and false as values', () => {
    const memo = new BoundedMemo<string, boolean | null>(4);
    memo.set('f', false);
    memo.set('n', null);
    expect([memo.get('f'), memo.get('n'), memo.get('x')]).toEqual([false, null, undefined]);
  });
});
