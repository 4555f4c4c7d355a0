import { describe, expect, it } from 'vitest';
import { credentialId, findCredential, normalizeAuthKey } from './credentials.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('docker config credentials', () => {
  it('normalizes auth keys', () => {
    expect(normalizeAuthKey('https://index.docker.io/v1/')).toEqual({ host: 'docker.io', path: '' });
    expect(normalizeAuthKey('registry.example.com:5000')).toEqual({ host: 'registry.example.com:5000', path: '' });
    expect(normalizeAuthKey('http://Registry.Example.com/team/')).toEqual({ host: 'registry.example.com', path: 'team' });
  });

  it('decodes auth, username/password and identitytoken entries', () => {
    const cfg = {
      auths: {
        'a.example.com': { auth: b64('alice:s3:cret') },
        'b.example.com': { username: 'bob', password: 'pw' },
        'c.example.com': { auth: b64('<token>:'), identitytoken: 'refresh' },
        'd.example.com': { registrytoken: 'bearer-token' },
      },
    };
    expect(findCredential(cfg, 'a.example.com', 'x')).toEqual({ kind: 'basic', username: 'alice', password: 's3:cret' });
    expect(findCredential(cfg, 'b.example.com', 'x')).toEqual({ kind: 'basic', username: 'bob', password: 'pw' });
    expect(findCredential(cfg, 'c.example.com', 'x')).toEqual({ kind: 'identityToken', username: '<token>', token: 'refresh' });
    expect(findCredential(cfg, 'd.example.com', 'x')).toEqual({ kind: 'registryToken', token: 'bearer-token' });
    expect(findCredential(cfg, 'e.example.com', 'x')).toBeUndefined();
  });

  it('matches docker.io keys, wildcards and the longest path prefix', () => {
    const cfg = {
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hub:1') },
        '*.gcr.example': { auth: b64('wild:1') },
        'eu.gcr.example/team': { auth: b64('team:1') },
        'eu.gcr.example/team/app': { auth: b64('app:1') },
      },
    };
    expect(findCredential(cfg, 'docker.io', 'library/nginx')).toMatchObject({ username: 'hub' });
    expect(findCredential(cfg, 'eu.gcr.example', 'other/x')).toMatchObject({ username: 'wild' });
    expect(findCredential(cfg, 'eu.gcr.example', 'team/x')).toMatchObject({ username: 'team' });
    expect(findCredential(cfg, 'eu.gcr.example', 'team/app')).toMatchObject({ username: 'app' });
    expect(findCredential(cfg, 'eu.gcr.example', 'teamster/x')).toMatchObject({ username: 'wild' });
    expect(findCredential(cfg, 'a.b.gcr.example', 'x')).toBeUndefined();
  });

  it('ignores malformed entries', () => {
    expect(findCredential({ auths: { 'a.example.com': { auth: b64('no-colon') } } }, 'a.example.com', 'x')).toBeUndefined();
    expect(findCredential({ auths: 'nope' } as never, 'a.example.com', 'x')).toBeUndefined();
  });

  it('gives credentials distinct, secret-free ids', () => {
    const a = credentialId({ kind: 'basic', username: 'u', password: 'p1' });
    expect(a).not.toBe(credentialId({ kind: 'basic', username: 'u', password: 'p2' }));
    expect(a).not.toContain('p1');
    expect(credentialId(undefined)).toBe('anon');
  });
});
