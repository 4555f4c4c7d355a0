// The shared tag resolver: one request per tag in flight, cached answers, remembered failures (not timeouts), and the
// manifest a tag GET brought back reused for the look-up at its digest.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/images/client.js';
import { ImageResolver } from '../../src/images/resolver.js';
import { parseReference } from '../../src/images/reference.js';
import type { RegistryError } from '../../src/images/errors.js';
import { makeImage, startHostileServer, type HostileServer } from '../helpers/registry-hostile.js';

let hostile: HostileServer;
let client: RegistryClient;
const image = makeImage('1000');
const soon = () => ({ deadline: Date.now() + 2000 });
const manifestAsks = () => hostile.seen.filter((s) => s.path.includes('/manifests/')).length;

beforeAll(async () => {
  hostile = await startHostileServer();
  client = new RegistryClient({ insecure: [hostile.host], maxTries: 1 });
});
afterAll(async () => {
  await client.close();
  await hostile.stop();
});
beforeEach(() => {
  hostile.seen.length = 0;
  hostile.handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': image.manifestDigest });
    res.end(image.manifest);
  };
});

const ref = (tag: string) => parseReference(`${hostile.host}/team/app:${tag}`);

describe('ImageResolver', () => {
  it('answers concurrent look-ups of a tag with one request, then from cache, and keeps the manifest for its digest', async () => {
    const r = new ImageResolver(client, { tagTtlMs: 60_000, maxEntries: 100 });
    const digests = await Promise.all(Array.from({ length: 20 }, () => r.digestOf(ref('v1'), soon())));
    expect(new Set(digests)).toEqual(new Set([image.manifestDigest]));
    expect(await r.digestOf(ref('v1'), soon())).toBe(image.manifestDigest);
    const m = await r.manifest({ registry: hostile.host, repository: 'team/app' }, image.manifestDigest, soon());
    expect(m.digest).toBe(image.manifestDigest);
    expect(manifestAsks()).toBe(1);
  });

  it('remembers a failure for failureTtl, and never a timeout', async () => {
    const failures: string[] = [];
    const r = new ImageResolver(client, { tagTtlMs: 0, failureTtlMs: 60_000, maxEntries: 100, onFailure: (_ref, e) => void failures.push(e.code) });
    hostile.handler = (_req, res) => res.writeHead(404).end();
    for (let i = 0; i < 3; i++) await expect(r.digestOf(ref('gone'), soon())).rejects.toMatchObject({ code: 'REGISTRY_NOT_FOUND' } satisfies Partial<RegistryError>);
    expect(manifestAsks()).toBe(1);
    expect(failures).toEqual(['REGISTRY_NOT_FOUND']);
    hostile.handler = () => undefined; // never answers
    for (let i = 0; i < 2; i++) await expect(r.digestOf(ref('slow'), { deadline: Date.now() + 150 })).rejects.toMatchObject({ code: 'REGISTRY_TIMEOUT' });
    expect(manifestAsks()).toBe(3);
  });

  it('answers a tag from cache for tagTtl, then asks again with a HEAD: the entry keeps the digest the tag last named', async () => {
    const r = new ImageResolver(client, { tagTtlMs: 100, maxEntries: 100 });
    hostile.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': image.manifestDigest, 'content-length': Buffer.byteLength(image.manifest) });
      res.end(image.manifest);
    };
    const methods = () => hostile.seen.filter((s) => s.path.includes('/manifests/')).map((s) => s.method);
    expect(await r.digestOf(ref('v2'), soon())).toBe(image.manifestDigest);
    expect(r.peek(ref('v2'))).toBe(image.manifestDigest);
    await new Promise((done) => setTimeout(done, 150));
    expect(r.peek(ref('v2'))).toBeUndefined();
    expect(await r.digestOf(ref('v2'), soon())).toBe(image.manifestDigest);
    expect(methods()).toEqual(['GET', 'HEAD']);
  });
});
