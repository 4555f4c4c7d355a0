// The image-facts caches are bounded in bytes as well as entries: long image names evict earlier.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImageFactsSource } from '../../src/images/facts.js';
import { boundedCache, entryBytes, factsCacheBudget, listBytes, recordBytes } from '../../src/images/cache-size.js';
import { makeImage, makeImageFrom, startHostileServer, type HostileServer } from '../helpers/registry-hostile.js';

const amd64 = { os: 'linux', architecture: 'amd64' };
const image = makeImage('1000');
let server: HostileServer;

beforeAll(async () => {
  server = await startHostileServer();
  // every repository holds the same image
  server.handler = (_req, res, url) => {
    if (url.pathname.includes('/manifests/')) return void res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': image.manifestDigest }).end(image.manifest);
    if (url.pathname.endsWith(`/blobs/${image.configDigest}`)) return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(image.config);
    res.writeHead(404).end();
  };
});
afterAll(async () => server?.stop());

// Looks up `count` images with 200-character repository names, then the first one again; returns the requests that took.
async function lookupAgain(cache: { maxEntries: number; maxBytes?: number }, count: number, name = 'x'.repeat(200)): Promise<number> {
  const source = createImageFactsSource({ insecure: [server.host], cache });
  try {
    const ref = (i: number) => `${server.host}/team/${name}-${i}:1.0`;
    for (let i = 0; i < count; i++) expect((await source.lookup(ref(i), { platform: amd64, deadline: Date.now() + 10_000 })).ok).toBe(true);
    const before = server.seen.length;
    expect((await source.lookup(ref(0), { platform: amd64, deadline: Date.now() + 10_000 })).ok).toBe(true);
    return server.seen.length - before;
  } finally {
    await source.close();
  }
}

describe('image-facts cache bytes', () => {
  it('splits registry.cache.maxBytes between the caches', () => {
    expect(factsCacheBudget(16 * 2 ** 20)).toEqual({ digests: 8 * 2 ** 20, tags: 8 * 2 ** 20, failures: 2 * 2 ** 20 });
    expect(entryBytes('abc', 'de')).toBeGreaterThan(5);
  });

  it('bounds a cache in entries through the sizes, and in bytes', () => {
    const small = boundedCache<string, string>({ maxEntries: 3, maxBytes: 3000, sizeOf: () => 1 });
    for (const k of ['a', 'b', 'c', 'd']) small.set(k, k);
    expect([...small.keys()].sort()).toEqual(['b', 'c', 'd']);
    const big = boundedCache<string, string>({ maxEntries: 100, maxBytes: 3000, sizeOf: (v) => v.length });
    for (const k of ['a', 'b', 'c']) big.set(k, 'x'.repeat(1200));
    expect([...big.keys()].sort()).toEqual(['b', 'c']);
  });

  it('sizes an image config by its Env and labels too', () => {
    const env = Array.from({ length: 10 }, (_, i) => `VAR_${i}=${'v'.repeat(100)}`);
    expect(listBytes(env)).toBeGreaterThan(10 * 106);
    expect(recordBytes({ 'org.opencontainers.image.source': 'https://example.com/app' })).toBeGreaterThan(31 + 23);
  });

  it('keeps 40 long-named images under the default budget: the first is answered from cache', async () => {
    expect(await lookupAgain({ maxEntries: 1000 }, 40)).toBe(0);
  });

  it('evicts by bytes before entries: with maxBytes 16 KiB the first of 40 long-named images is fetched again', async () => {
    expect(await lookupAgain({ maxEntries: 1000, maxBytes: 16_384 }, 40)).toBeGreaterThan(0);
  });

  it('counts the Env and labels an image config brings: 40 images with 4 KB of Env each do not fit in 64 KiB', async () => {
    const big = JSON.parse(image.config) as { config: Record<string, unknown> };
    big.config.Env = Array.from({ length: 40 }, (_, i) => `VAR_${i}=${'v'.repeat(100)}`);
    big.config.Labels = { 'org.opencontainers.image.source': 'https://example.com/app' };
    const fat = makeImageFrom(JSON.stringify(big));
    const handler = server.handler;
    server.handler = (_req, res, url) => {
      if (url.pathname.includes('/manifests/')) return void res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': fat.manifestDigest }).end(fat.manifest);
      if (url.pathname.endsWith(`/blobs/${fat.configDigest}`)) return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(fat.config);
      res.writeHead(404).end();
    };
    try {
      // 40 short names: their keys alone would fit; the Env (~5 KB per image) does not
      expect(await lookupAgain({ maxEntries: 1000, maxBytes: 4 * 65_536 }, 40, 'app')).toBeGreaterThan(0);
      expect(await lookupAgain({ maxEntries: 1000, maxBytes: 4 * 1_048_576 }, 40, 'app')).toBe(0);
    } finally {
      server.handler = handler;
    }
  });
});
