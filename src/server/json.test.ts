import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonDepth } from './json.js';

// The depth as JSON.parse sees it, for comparison.
function parsedDepth(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(parsedDepth));
  if (value !== null && typeof value === 'object') return 1 + Math.max(0, ...Object.values(value).map(parsedDepth));
  return 0;
}

describe('jsonDepth', () => {
  it('agrees with the parsed depth, strings with quotes, brackets and backslashes included', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), (value) => {
        const text = JSON.stringify(value);
        expect(jsonDepth(text, 1000)).toBe(parsedDepth(value));
      }),
      { numRuns: 2000 },
    );
    expect(jsonDepth(JSON.stringify({ a: '{[\\"]}', b: ['\\\\', { c: '"' }] }), 100)).toBe(3);
  });

  it('stops once past the limit', () => {
    expect(jsonDepth('['.repeat(10_000), 128)).toBe(129);
  });
});
