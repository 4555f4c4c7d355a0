import { describe, expect, it } from 'vitest';
import { formatReference, parseReference, referenceOf } from './reference.js';

const D = 'sha256:3f1c4a3e0f0b8d4f2c9d8b7a6e5f4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c3';

describe('parseReference', () => {
  it.each([
    ['nginx', 'docker.io', 'library/nginx', undefined, undefined],
    ['nginx:1.27', 'docker.io', 'library/nginx', '1.27', undefined],
    ['library/nginx:1.27', 'docker.io', 'library/nginx', '1.27', undefined],
    ['docker.io/nginx', 'docker.io', 'library/nginx', undefined, undefined],
    ['index.docker.io/nginx:1', 'docker.io', 'library/nginx', '1', undefined],
    ['bitnami/redis:7', 'docker.io', 'bitnami/redis', '7', undefined],
    ['localhost/app', 'localhost', 'app', undefined, undefined],
    ['localhost:5000/app:v1', 'localhost:5000', 'app', 'v1', undefined],
    ['127.0.0.1:5000/a/b/c:t', '127.0.0.1:5000', 'a/b/c', 't', undefined],
    ['registry.example.com:5000/team/app', 'registry.example.com:5000', 'team/app', undefined, undefined],
    ['[::1]:5000/app:1', '[::1]:5000', 'app', '1', undefined],
    [`ghcr.io/org/app@${D}`, 'ghcr.io', 'org/app', undefined, D],
    [`ghcr.io/org/app:latest@${D}`, 'ghcr.io', 'org/app', 'latest', D],
    ['Registry.Example.com/app:1', 'Registry.Example.com', 'app', '1', undefined],
    ['a__b/c--d.e:tag_1.0-x', 'docker.io', 'a__b/c--d.e', 'tag_1.0-x', undefined],
  ])('%s', (input, registry, repository, tag, digest) => {
    const ref = parseReference(input);
    expect({ registry: ref.registry, repository: ref.repository, tag: ref.tag, digest: ref.digest }).toEqual({ registry, repository, tag, digest });
  });

  it.each([
    ['', 'REFERENCE_EMPTY'],
    ['Nginx', 'REFERENCE_UPPERCASE'],
    ['team/App:1', 'REFERENCE_UPPERCASE'],
    ['nginx:', 'REFERENCE_INVALID'],
    ['nginx@sha256:abc', 'REFERENCE_INVALID'],
    [`nginx@sha256:${'a'.repeat(32)}`, 'REFERENCE_INVALID'],
    [`nginx@sha256:${'A'.repeat(64)}`, 'REFERENCE_INVALID'],
    [`nginx@md5:${'a'.repeat(32)}`, 'REFERENCE_INVALID'],
    ['-nginx', 'REFERENCE_INVALID'],
    ['nginx:-tag', 'REFERENCE_INVALID'],
    ['a//b', 'REFERENCE_INVALID'],
    ['nginx:1 ', 'REFERENCE_INVALID'],
    [`a/${'b'.repeat(300)}`, 'REFERENCE_TOO_LONG'],
  ])('rejects %j with %s', (input, code) => {
    expect(() => parseReference(input)).toThrowError(expect.objectContaining({ code }));
  });

  it('formats the canonical form', () => {
    expect(formatReference(parseReference('nginx'))).toBe('docker.io/library/nginx');
    expect(formatReference(parseReference(`x.io/a:b@${D}`))).toBe(`x.io/a:b@${D}`);
  });
});

describe('referenceOf', () => {
  it('parses each distinct string once and returns the error for a bad one', () => {
    const a = referenceOf('nginx:1.27');
    expect(a).toBe(referenceOf('nginx:1.27'));
    expect(a).toMatchObject({ registry: 'docker.io', repository: 'library/nginx', tag: '1.27' });
    expect(referenceOf('Nginx')).toMatchObject({ code: 'REFERENCE_UPPERCASE' });
  });
});
