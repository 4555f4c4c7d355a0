import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RegistryError } from './errors.js';
import { parseImageConfig, parseManifest } from './manifest.js';

const enc = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const d = `sha256:${'a'.repeat(64)}`;

describe('manifest parsing', () => {
  it('reads OCI and Docker manifests and indexes, from the body or the Content-Type', () => {
    expect(parseManifest(enc({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }), undefined, 'r').kind).toBe('index');
    expect(parseManifest(enc({ schemaVersion: 2, manifests: [{ mediaType: 'x', digest: d, size: 1, platform: { os: 'linux', architecture: 'amd64' } }] }), 'application/vnd.docker.distribution.manifest.list.v2+json', 'r')).toMatchObject({
      kind: 'index',
      manifests: [{ platform: { os: 'linux', architecture: 'amd64' } }],
    });
    expect(parseManifest(enc({ schemaVersion: 2, config: { mediaType: 'c', digest: d, size: 2 } }), 'application/vnd.docker.distribution.manifest.v2+json', 'r')).toMatchObject({ kind: 'manifest', layers: [] });
  });

  it('reads config.User, empty when unset', () => {
    expect(parseImageConfig(enc({ os: 'linux', architecture: 'amd64', config: { User: 'nginx' } }), 'r').user).toBe('nginx');
    expect(parseImageConfig(enc({ os: 'linux', architecture: 'amd64' }), 'r').user).toBe('');
    expect(parseImageConfig(enc({ os: 'linux', architecture: 'arm', variant: 'v7', config: null }), 'r')).toEqual({ user: '', env: [], labels: {}, os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(parseImageConfig(enc({ os: 'linux', architecture: 'amd64', config: { Env: ['PATH=/usr/bin', 'TOKEN=x'] } }), 'r').env).toEqual(['PATH=/usr/bin', 'TOKEN=x']);
    expect(() => parseImageConfig(enc({ os: 'linux', architecture: 'amd64', config: { Env: 'PATH=/' } }), 'r')).toThrowError(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    expect(parseImageConfig(enc({ os: 'linux', architecture: 'amd64', config: { Labels: { team: 'payments' } } }), 'r').labels).toEqual({ team: 'payments' });
    expect(() => parseImageConfig(enc({ os: 'linux', architecture: 'amd64', config: { Labels: { n: 1 } } }), 'r')).toThrowError(expect.objectContaining({ code: 'INVALID_CONFIG' }));
  });

  it('only ever throws RegistryError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string(), fc.uint8Array().map((b) => Buffer.from(b).toString('latin1'))), (text) => {
        for (const f of [() => parseManifest(enc(text), undefined, 'r'), () => parseImageConfig(enc(text), 'r')]) {
          try {
            f();
          } catch (err) {
            if (!(err instanceof RegistryError)) throw err;
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
