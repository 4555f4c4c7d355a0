import { describe, expect, it } from 'vitest';
import { choosePlatform, parsePlatform } from './platform.js';

describe('platforms', () => {
  it('parses os/arch[/variant]', () => {
    expect(parsePlatform('linux/amd64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(parsePlatform('linux/arm/v7')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(() => parsePlatform('amd64')).toThrow();
    expect(() => parsePlatform('linux/amd64/v1/x')).toThrow();
  });

  it('chooses the matching index entry', () => {
    const entries = [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm', variant: 'v6' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
      { os: 'unknown', architecture: 'unknown' },
      undefined,
    ];
    expect(choosePlatform({ os: 'linux', architecture: 'amd64' }, entries)).toBe(0);
    expect(choosePlatform({ os: 'linux', architecture: 'arm', variant: 'v7' }, entries)).toBe(2);
    expect(choosePlatform({ os: 'linux', architecture: 'arm64' }, entries)).toBe(3);
    expect(choosePlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' }, [{ os: 'linux', architecture: 'arm64' }])).toBe(0);
    expect(choosePlatform({ os: 'windows', architecture: 'amd64' }, entries)).toBe(-1);
  });
});
