// Image globs as RE2 patterns agree with the engine's glob matching (picomatch) on image-like strings, and glob
// syntax the translation leaves out is reported rather than matched literally.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { globMatcher } from '../engine/globs.js';
import { globToRegex } from './rewrite.js';

const GLOBS = [
  'registry.example.com/**', 'docker.io/library/*', 'docker.io/**/app', '**/app', '**', '*', 'ghcr.io/org/*', 'a/**/**/b',
  '*.example.com/**', 'docker.io/lib**', 'docker.io/**x', 'a?c/d', 'localhost:5000/*', 'quay.io/*/app', 'reg.io/team-*/**',
  'docker.io/library/nginx', 'a.b/c+d', 'registry.example.com/**/*:v1', 'reg.io/app@sha256:*', '*.*', '**/*.*', '*.*.b',
  './docker.io/*', '*/**', 'reg.io/a*/**', 'b.?/**/***', '*/**/***', 'a/**/***/b', 'a/**/*',
];
const NAMES = [
  'registry.example.com/team/app', 'registry.example.com', 'registry.example.com.evil.io/team/app', 'docker.io/library/nginx',
  'docker.io/library/a/b', 'docker.io/app', 'docker.io/a/app', 'docker.io/a/b/app', 'docker.io/xapp', 'app', 'a/b/app',
  'ghcr.io/org/app', 'ghcr.io/org/app/sub', 'a/b', 'a/x/b', 'a/x/y/b', 'x.example.com/a', 'a.b.example.com/x/y', 'docker.io/library',
  'docker.io/lib', 'docker.io/ax', 'docker.io/a/x', 'abc/d', 'a/c/d', 'localhost:5000/app', 'quay.io/x/app', 'reg.io/team-a/x/y',
  'a.b/c+d', 'axb/c+d', 'registry.example.com/t/app:v1', 'reg.io/app@sha256:abc', 'a.', 'a.b', 'x/a.', 'a.b.b', 'reg.io/ab',
  'reg.io/ab/c', 'docker.io/x', 'b.-', 'b.-/c',
];

describe('globToRegex', () => {
  it.each(GLOBS)('%s matches as the engine does', (glob) => {
    const re = new RegExp(globToRegex(glob)!);
    for (const name of NAMES) expect({ name, matches: re.test(name) }).toEqual({ name, matches: globMatcher(glob)(name) });
  });

  it('agrees on generated globs and names', () => {
    const segment = fc.stringMatching(/^[a-c.*?-]{1,4}$/).filter((s) => s !== '.' && s !== '..');
    const name = fc.array(fc.stringMatching(/^[a-c][a-c.-]{0,3}$/), { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));
    const glob = fc.array(fc.oneof(segment, fc.constant('**')), { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));
    fc.assert(fc.property(glob, name, (g, n) => {
      expect(new RegExp(globToRegex(g)!).test(n)).toBe(globMatcher(g)(n));
    }), { numRuns: 5000 });
  });

  it.each(['{a,b}/x', '[a-c]/x', '!a/*', 'a/@(b|c)', 'a\\*b'])('reports %s as syntax it does not translate', (glob) => {
    expect(globToRegex(glob)).toBeUndefined();
  });
});
