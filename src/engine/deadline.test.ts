import { describe, expect, it } from 'vitest';
import { settleBy } from './deadline.js';

const after = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe('settleBy', () => {
  it('settles with the promise when it comes before the deadline', async () => {
    expect(await settleBy(after(5, 'answer'), Date.now() + 1_000, () => 'timeout')).toBe('answer');
  });

  it('settles with onTimeout() when the deadline passes first, also for a deadline already past', async () => {
    expect(await settleBy(after(1_000, 'answer'), Date.now() + 10, () => 'timeout')).toBe('timeout');
    expect(await settleBy(after(1_000, 'answer'), Date.now() - 10, () => 'timeout')).toBe('timeout');
  });

  it('passes on a rejection of the promise, and one from onTimeout', async () => {
    await expect(settleBy(Promise.reject(new Error('boom')), Date.now() + 1_000, () => 'timeout')).rejects.toThrow('boom');
    await expect(settleBy(after(1_000, 'answer'), Date.now() + 10, () => Promise.reject(new Error('late')))).rejects.toThrow('late');
  });
});
