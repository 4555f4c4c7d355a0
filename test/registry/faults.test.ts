// Load, caching and failure behaviour against a real registry behind a fault-injecting proxy.

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createImageFactsSource, type ImageFactsSource } from '../../src/images/facts.js';
import type { RegistryOptionsInput } from '../../src/images/options.js';
import { freePort } from '../e2e/proc.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pushTestImages, type TestImage } from '../helpers/registry-images.js';
import { startFaultProxy, type FaultProxy } from '../helpers/registry-proxy.js';

const amd64 = { os: 'linux', architecture: 'amd64' };
const soon = (ms = 20_000) => Date.now() + ms;

let registry: TestRegistry;
let images: Record<string, TestImage>;
let proxy: FaultProxy;
let source: ImageFactsSource;
let metrics: Registry;

// the image reference through the proxy
const via = (name: string) => `${proxy.host}/${(images[name] as TestImage).repository}:v1`;
const registryRequests = () => proxy.seen.filter((r) => r.path.startsWith('/v2/') && r.path !== '/v2/');

function newSource(extra: RegistryOptionsInput = {}): ImageFactsSource {
  metrics = new Registry();
  return createImageFactsSource({ insecure: [proxy.host], ...extra }, { metrics });
}

beforeAll(async () => {
  registry = await startRegistry({ auth: 'none', tls: false });
  images = await pushTestImages(registry);
  proxy = await startFaultProxy(registry.url);
}, 180_000);

afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
});

beforeEach(() => {
  proxy.reset();
  source = newSource();
});

afterEach(async () => {
  await source.close();
});

describe('sharing and caching', () => {
  it('answers 500 concurrent look-ups of one new image with 2 registry requests', async () => {
    const ref = via('user-1000');
    const results = await Promise.all(Array.from({ length: 500 }, () => source.lookup(ref, { platform: amd64, deadline: soon() })));
    expect(results.every((r) => r.ok && r.facts.user === '1000' && r.facts.reference === ref)).toBe(true);
    expect(registryRequests().map((r) => `${r.method} ${r.path.split('/')[4]}`)).toEqual(['GET manifests', 'GET blobs']);
  });

  it('answers a warm look-up from cache with no request', async () => {
    const ref = via('user-nginx');
    expect((await source.lookup(ref, { platform: amd64, deadline: soon() })).ok).toBe(true);
    proxy.reset();
    const r = await source.lookup(ref, { platform: amd64, deadline: soon() });
    expect(r.ok && r.facts.user).toBe('nginx');
    expect(registryRequests()).toEqual([]);
    expect(await metrics.metrics()).toMatch(/portcullis_registry_cache_hits_total\{cache="facts"\} 1/);
  });

  it('revalidates an expired tag with one HEAD when the digest is known', async () => {
    await source.close();
    source = newSource({ cache: { tagTtl: '0' } });
    const ref = via('user-0');
    expect((await source.lookup(ref, { platform: amd64, deadline: soon() })).ok).toBe(true);
    proxy.reset();
    const r = await source.lookup(ref, { platform: amd64, deadline: soon() });
    expect(r.ok && r.facts.user).toBe('0');
    expect(registryRequests().map((x) => x.method)).toEqual(['HEAD']);
  });

  it('fetches index, platform manifest and config once for a multi-arch image', async () => {
    const ref = via('multi');
    const results = await Promise.all(Array.from({ length: 50 }, () => source.lookup(ref, { platform: amd64, deadline: soon() })));
    expect(results.every((r) => r.ok && r.facts.user === '1000')).toBe(true);
    expect(registryRequests()).toHaveLength(3);
  });

  it('keeps to the per-registry concurrency limit', async () => {
    await source.close();
    source = newSource({ concurrencyPerRegistry: 2 });
    proxy.inject({ fault: { kind: 'delay', ms: 50 }, times: Infinity });
    const names = ['user-empty', 'user-0', 'user-root', 'user-0-0', 'user-1000-1000', 'user-65532'];
    const results = await Promise.all(names.map((n) => source.lookup(via(n), { platform: amd64, deadline: soon() })));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(proxy.maxActive).toBeLessThanOrEqual(2);
    expect(registryRequests()).toHaveLength(12);
  });
});

describe('failures', () => {
  it('retries a 429 after Retry-After and succeeds', async () => {
    proxy.inject({ fault: { kind: 'status', status: 429, headers: { 'retry-after': '1' } }, match: /manifests/, times: 1 });
    const r = await source.lookup(via('user-1000'), { platform: amd64, deadline: soon() });
    expect(r.ok && r.facts.user).toBe('1000');
    expect(registryRequests().filter((x) => x.path.includes('manifests'))).toHaveLength(2);
  });

  it('gives up at once when Retry-After is past the deadline', async () => {
    proxy.inject({ fault: { kind: 'status', status: 429, headers: { 'retry-after': '3600' } }, times: Infinity });
    const r = await source.lookup(via('user-1000'), { platform: amd64, deadline: soon(5000) });
    expect(!r.ok && r.error).toMatchObject({ code: 'REGISTRY_RATE_LIMITED', status: 429, tries: 1 });
    expect(registryRequests()).toHaveLength(1);
  });

  it('answers REGISTRY_RATE_LIMITED after the tries run out', async () => {
    proxy.inject({ fault: { kind: 'status', status: 429, headers: { 'retry-after': '0' } }, times: Infinity });
    const r = await source.lookup(via('user-1000'), { platform: amd64, deadline: soon() });
    expect(!r.ok && r.error).toMatchObject({ code: 'REGISTRY_RATE_LIMITED', tries: 3 });
    expect(registryRequests()).toHaveLength(3);
  });

  it('retries a 503 and succeeds', async () => {
    proxy.inject({ fault: { kind: 'status', status: 503 }, match: /blobs/, times: 1 });
    const r = await source.lookup(via('user-root'), { platform: amd64, deadline: soon() });
    expect(r.ok && r.facts.user).toBe('root');
  });

  it('answers REGISTRY_HTTP_STATUS for a registry that keeps failing', async () => {
    proxy.inject({ fault: { kind: 'status', status: 502 }, times: Infinity });
    const r = await source.lookup(via('user-root'), { platform: amd64, deadline: soon() });
    expect(!r.ok && r.error).toMatchObject({ code: 'REGISTRY_HTTP_STATUS', status: 502, tries: 3 });
  });

  it('answers REGISTRY_HTTP_STATUS for an unexpected status without retrying', async () => {
    proxy.inject({ fault: { kind: 'status', status: 418 }, times: Infinity });
    const r = await source.lookup(via('user-root'), { platform: amd64, deadline: soon() });
    expect(!r.ok && r.error).toMatchObject({ code: 'REGISTRY_HTTP_STATUS', status: 418 });
    expect(registryRequests()).toHaveLength(1);
  });

  it('retries after a connection reset and succeeds', async () => {
    proxy.inject({ fault: { kind: 'reset' }, times: 1 });
    const r = await source.lookup(via('user-65532'), { platform: amd64, deadline: soon() });
    expect(r.ok && r.facts.user).toBe('65532:65532');
  });

  it('answers REGISTRY_UNREACHABLE when every connection is reset', async () => {
    proxy.inject({ fault: { kind: 'reset' }, times: Infinity });
    const r = await source.lookup(via('user-65532'), { platform: amd64, deadline: soon() });
    expect(!r.ok && r.error.code).toBe('REGISTRY_UNREACHABLE');
  });

  it('answers REGISTRY_UNREACHABLE for a registry that is down, and caches the failure', async () => {
    const port = await freePort();
    await source.close();
    source = createImageFactsSource({ insecure: [`127.0.0.1:${port}`] }, { metrics: (metrics = new Registry()) });
    const ref = `127.0.0.1:${port}/portcullis/user-0:v1`;
    const a = await source.lookup(ref, { platform: amd64, deadline: soon() });
    const b = await source.lookup(ref, { platform: amd64, deadline: soon() });
    expect(!a.ok && a.error.code).toBe('REGISTRY_UNREACHABLE');
    expect(!b.ok && b.error).toBe(!a.ok && a.error);
    expect(await metrics.metrics()).toMatch(/portcullis_registry_cache_hits_total\{cache="failure"\} 1/);
  });

  it('answers REGISTRY_TIMEOUT at the deadline for a registry that never answers', async () => {
    proxy.inject({ fault: { kind: 'hang' }, times: Infinity });
    const r = await source.lookup(via('user-0'), { platform: amd64, deadline: soon(300) });
    expect(!r.ok && r.error.code).toBe('REGISTRY_TIMEOUT');
  });

  it('answers REGISTRY_TIMEOUT for a deadline already past, without a request', async () => {
    const r = await source.lookup(via('user-0'), { platform: amd64, deadline: Date.now() - 1 });
    expect(!r.ok && r.error.code).toBe('REGISTRY_TIMEOUT');
    expect(registryRequests()).toHaveLength(0);
  });

  it('does not cache timeouts: the next look-up goes to the registry', async () => {
    proxy.inject({ fault: { kind: 'hang' }, times: 1 });
    const a = await source.lookup(via('user-empty'), { platform: amd64, deadline: soon(300) });
    expect(!a.ok && a.error.code).toBe('REGISTRY_TIMEOUT');
    const b = await source.lookup(via('user-empty'), { platform: amd64, deadline: soon() });
    expect(b.ok && b.facts.user).toBe('');
  });

  it('lets a later caller with more time retry after a shared look-up timed out', async () => {
    proxy.inject({ fault: { kind: 'hang' }, times: 1 });
    const [a, b] = await Promise.all([
      source.lookup(via('user-1000-1000'), { platform: amd64, deadline: soon(300) }),
      source.lookup(via('user-1000-1000'), { platform: amd64, deadline: soon() }),
    ]);
    expect(!a.ok && a.error.code).toBe('REGISTRY_TIMEOUT');
    expect(b.ok && b.facts.user).toBe('1000:1000');
  });
});

describe('proxy from the environment', () => {
  const saved = { HTTP_PROXY: process.env.HTTP_PROXY, http_proxy: process.env.http_proxy, NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy };
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('sends registry requests through HTTP_PROXY, and not for NO_PROXY hosts', async () => {
    delete process.env.http_proxy;
    delete process.env.no_proxy;
    process.env.HTTP_PROXY = `http://${proxy.host}`;
    delete process.env.NO_PROXY;
    const viaProxy = createImageFactsSource({ insecure: [registry.host] }, {});
    const direct = createImageFactsSource({ insecure: [registry.host] }, {});
    try {
      const ref = `${registry.host}/${(images['user-1000'] as TestImage).repository}:v1`;
      const a = await viaProxy.lookup(ref, { platform: amd64, deadline: soon() });
      expect(a.ok && a.facts.user).toBe('1000');
      // a forward proxy sees absolute-form request targets naming the registry
      expect(proxy.seen.filter((r) => r.path.startsWith(`http://${registry.host}/v2/`))).toHaveLength(2);
      proxy.reset();
      // NO_PROXY is read at each request
      process.env.NO_PROXY = '127.0.0.1';
      const b = await direct.lookup(ref, { platform: amd64, deadline: soon() });
      expect(b.ok && b.facts.user).toBe('1000');
      expect(proxy.seen).toHaveLength(0);
    } finally {
      await viaProxy.close();
      await direct.close();
    }
  });
});
