import { describe, expect, it } from 'vitest';
import { parseChallenges } from './auth.js';
import { retryAfterMs } from './client.js';

describe('WWW-Authenticate', () => {
  it('parses a Docker Hub style bearer challenge', () => {
    expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' } },
    ]);
  });

  it('parses Basic, several challenges, escapes and unquoted values', () => {
    expect(parseChallenges('Basic realm="Registry Realm"')).toEqual([{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
    expect(parseChallenges('Basic realm="a", Bearer realm="https://t/x",service=svc')).toEqual([
      { scheme: 'basic', params: { realm: 'a' } },
      { scheme: 'bearer', params: { realm: 'https://t/x', service: 'svc' } },
    ]);
    expect(parseChallenges('Bearer realm="a\\"b"')[0]?.params.realm).toBe('a"b');
    expect(parseChallenges('Basic')).toEqual([{ scheme: 'basic', params: {} }]);
  });

  it('ignores unknown schemes and garbage', () => {
    expect(parseChallenges('Negotiate abc')).toEqual([]);
    expect(parseChallenges('"""===,,,')).toEqual([]);
    expect(parseChallenges(undefined)).toEqual([]);
    expect(parseChallenges('x'.repeat(10_000))).toEqual([]);
    // long hostile headers parse in linear time
    expect(parseChallenges(`Bearer ${'a=b '.repeat(2000)}`).length).toBeLessThanOrEqual(1);
    expect(parseChallenges(`Bearer realm="${'\\'.repeat(4000)}`)).toHaveLength(1);
    expect(parseChallenges(' '.repeat(8000))).toEqual([]);
  });
});

describe('Retry-After', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});
