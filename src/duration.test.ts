import { describe, expect, it } from 'vitest';
import { DURATION_PATTERN, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['500ms', 500],
    ['3s', 3000],
    ['1.5s', 1500],
    ['5m', 300_000],
    ['24h', 86_400_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    [250, 250],
  ])('%j', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', 's', '3', '3x', '-1s', '3 s', '1h 2m', 'abc'])('rejects %j', (input) => {
    expect(() => parseDuration(input)).toThrow(expect.objectContaining({ code: 'DURATION_INVALID' }));
    expect(new RegExp(DURATION_PATTERN).test(input)).toBe(false);
  });
});
