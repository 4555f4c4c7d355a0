// Image facts against a real docker-registry: plain HTTP, TLS + htpasswd Basic, and token auth.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createImageFactsSource, type ImageFactsSource } from '../../src/images/facts.js';
import { RegistryClient } from '../../src/images/client.js';
import { parseImageUser } from '../../src/images/user.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pushTestImages, USER_IMAGES, type TestImage } from '../helpers/registry-images.js';

const amd64 = { os: 'linux', architecture: 'amd64' };
const arm64 = { os: 'linux', architecture: 'arm64' };
const soon = () => Date.now() + 20_000;

describe.each([
  { name: 'plain HTTP, anonymous', auth: 'none', tls: false },
  { name: 'TLS + Basic', auth: 'basic', tls: true },
  { name: 'TLS + token', auth: 'token', tls: true },
] as const)('registry: $name', ({ auth, tls }) => {
  let registry: TestRegistry;
  let images: Record<string, TestImage>;
  let source: ImageFactsSource;
  let metrics: Registry;

  beforeAll(async () => {
    registry = await startRegistry({ auth, tls });
    images = await pushTestImages(registry);
    metrics = new Registry();
    source = createImageFactsSource(
      { insecure: tls ? [] : [registry.host], ...(registry.caFile ? { caFile: registry.caFile } : {}) },
      { metrics },
    );
  }, 180_000);

  afterAll(async () => {
    await source?.close();
    await registry?.stop();
  });

  const creds = () => (registry.dockerConfig ? { credentials: registry.dockerConfig } : {});

  it.each(Object.entries(USER_IMAGES))('reads config.User of %s', async (name, user) => {
    const img = images[name] as TestImage;
    const r = await source.lookup(img.ref, { platform: amd64, deadline: soon(), ...creds() });
    expect(r.ok ? r.facts : r.error).toMatchObject({ reference: img.ref, registry: registry.host, repository: img.repository, digest: img.digest, user, platform: amd64 });
    expect(r.ok && r.facts.indexDigest).toBeFalsy();
  });

  it('chooses the platform from a multi-arch index', async () => {
    const multi = images.multi as TestImage;
    const a = await source.lookup(multi.ref, { platform: amd64, deadline: soon(), ...creds() });
    const b = await source.lookup(multi.ref, { platform: arm64, deadline: soon(), ...creds() });
    expect(a.ok && a.facts).toMatchObject({ digest: images['multi-amd64']?.digest, indexDigest: multi.digest, user: '1000', platform: amd64 });
    expect(b.ok && b.facts).toMatchObject({ digest: images['multi-arm64']?.digest, indexDigest: multi.digest, user: 'root', platform: { ...arm64, variant: 'v8' } });
    expect(a.ok && parseImageUser(a.facts.user).kind).toBe('uid');
    expect(b.ok && parseImageUser(b.facts.user).kind).toBe('root');
  });

  it('answers PLATFORM_NOT_FOUND for a platform the index lacks', async () => {
    const r = await source.lookup((images.multi as TestImage).ref, { platform: { os: 'linux', architecture: 's390x' }, deadline: soon(), ...creds() });
    expect(!r.ok && r.error.code).toBe('PLATFORM_NOT_FOUND');
  });

  it('reads a Docker schema 2 manifest', async () => {
    const img = images['docker-v2s2'] as TestImage;
    const r = await source.lookup(img.ref, { platform: amd64, deadline: soon(), ...creds() });
    expect(r.ok && r.facts).toMatchObject({ user: '1000', digest: img.digest });
    // the compressed size is the sum of the platform manifest's layer sizes; Env comes from the config
    if (!r.ok) return;
    if (auth === 'none') {
      const res = await fetch(`${registry.url}/v2/${img.repository}/manifests/${img.digest}`, { headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
      const manifest = (await res.json()) as { layers: Array<{ size: number }> };
      expect(r.facts.compressedSize).toBe(manifest.layers.reduce((n, l) => n + l.size, 0));
    }
    expect(r.facts.compressedSize).toBeGreaterThan(0);
    expect(Array.isArray(r.facts.env)).toBe(true);
  });

  it('chooses the platform from a Docker manifest list', async () => {
    const img = images['docker-list'] as TestImage;
    const a = await source.lookup(img.ref, { platform: amd64, deadline: soon(), ...creds() });
    const b = await source.lookup(img.ref, { platform: { ...arm64, variant: 'v8' }, deadline: soon(), ...creds() });
    expect(a.ok && a.facts).toMatchObject({ indexDigest: img.digest, user: '1000', platform: amd64 });
    expect(b.ok && b.facts).toMatchObject({ indexDigest: img.digest, user: 'root', platform: { ...arm64, variant: 'v8' } });
  });

  it('looks up by digest', async () => {
    const img = images['user-65532'] as TestImage;
    const ref = `${registry.host}/${img.repository}@${img.digest}`;
    const r = await source.lookup(ref, { platform: amd64, deadline: soon(), ...creds() });
    expect(r.ok && r.facts).toMatchObject({ user: '65532:65532', digest: img.digest, reference: ref });
  });

  it('answers REGISTRY_NOT_FOUND for a missing tag', async () => {
    const r = await source.lookup(`${registry.host}/portcullis/user-0:nope`, { platform: amd64, deadline: soon(), ...creds() });
    expect(!r.ok && r.error.code).toBe('REGISTRY_NOT_FOUND');
  });

  it('counts requests and cache use in the given metrics registry', async () => {
    const text = await metrics.metrics();
    expect(text).toMatch(/portcullis_registry_requests_total\{registry="127\.0\.0\.1:\d+",status="200"\} \d+/);
    expect(text).toMatch(/portcullis_registry_cache_hits_total|portcullis_registry_cache_misses_total/);
    expect(text).toMatch(/portcullis_image_lookup_duration_seconds_bucket/);
  });

  it('lists tags and resolves with the low-level client', async () => {
    const client = new RegistryClient({ insecure: tls ? [] : [registry.host], ...(registry.caFile ? { caFile: registry.caFile } : {}), ...(registry.dockerConfig ? { dockerConfig: registry.dockerConfig } : {}) });
    try {
      const repo = { registry: registry.host, repository: 'portcullis/multi' };
      expect(await client.listTags(repo, { deadline: soon() })).toEqual(['v1']);
      const d = await client.resolve(repo, 'v1', { deadline: soon() });
      expect(d).toMatchObject({ digest: images.multi?.digest, mediaType: 'application/vnd.oci.image.index.v1+json' });
      const m = await client.getManifest(repo, d.digest, { deadline: soon() });
      expect(m.manifest.kind).toBe('index');
      // distribution 2.8 has no referrers API: the client falls back to the sha256-<hex> tag and finds none
      expect(await client.referrers(repo, d.digest, undefined, { deadline: soon() })).toEqual([]);
    } finally {
      await client.close();
    }
  });

  if (auth !== 'none') {
    it('reads credentials from a docker config.json file', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'portcullis-dockercfg-'));
      const path = join(dir, 'config.json');
      writeFileSync(path, JSON.stringify({ auths: { [registry.host]: { username: registry.username, password: registry.password } } }));
      const fromFile = createImageFactsSource({ dockerConfig: path, ...(registry.caFile ? { caFile: registry.caFile } : {}) }, {});
      try {
        const r = await fromFile.lookup((images['user-0-0'] as TestImage).ref, { platform: amd64, deadline: soon() });
        expect(r.ok && r.facts.user).toBe('0:0');
      } finally {
        await fromFile.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('answers REGISTRY_UNAUTHORIZED without credentials', async () => {
      const bare = createImageFactsSource({ ...(registry.caFile ? { caFile: registry.caFile } : {}) }, {});
      try {
        const r = await bare.lookup((images['user-0'] as TestImage).ref, { platform: amd64, deadline: soon() });
        expect(!r.ok && r.error.code).toBe('REGISTRY_UNAUTHORIZED');
      } finally {
        await bare.close();
      }
    });

    it('keeps a failure without credentials from answering a look-up with them', async () => {
      const shared = createImageFactsSource({ ...(registry.caFile ? { caFile: registry.caFile } : {}) }, {});
      try {
        const img = images['user-1000-1000'] as TestImage;
        const a = await shared.lookup(img.ref, { platform: amd64, deadline: soon() });
        expect(!a.ok && a.error.code).toBe('REGISTRY_UNAUTHORIZED');
        const b = await shared.lookup(img.ref, { platform: amd64, deadline: soon(), credentials: registry.dockerConfig ?? {} });
        expect(b.ok && b.facts.user).toBe('1000:1000');
      } finally {
        await shared.close();
      }
    });

    it('answers REGISTRY_UNAUTHORIZED for wrong credentials', async () => {
      const bare = createImageFactsSource({ ...(registry.caFile ? { caFile: registry.caFile } : {}) }, {});
      try {
        const wrong = { auths: { [registry.host]: { username: 'portcullis', password: 'wrong' } } };
        const r = await bare.lookup((images['user-0'] as TestImage).ref, { platform: amd64, deadline: soon(), credentials: wrong });
        expect(!r.ok && r.error.code).toBe('REGISTRY_UNAUTHORIZED');
      } finally {
        await bare.close();
      }
    });
  }

  if (auth === 'token') {
    it('fetches one token per repository scope and reuses it', async () => {
      const client = new RegistryClient({ ...(registry.caFile ? { caFile: registry.caFile } : {}), ...(registry.dockerConfig ? { dockerConfig: registry.dockerConfig } : {}) });
      try {
        const before = registry.tokenIssuer?.counts.issued ?? 0;
        const repo = { registry: registry.host, repository: 'portcullis/user-nginx' };
        for (let i = 0; i < 3; i++) await client.getManifest(repo, 'v1', { deadline: soon() });
        expect((registry.tokenIssuer?.counts.issued ?? 0) - before).toBe(1);
      } finally {
        await client.close();
      }
    });

    it('exchanges an identitytoken (OAuth2 refresh_token grant) for an access token', async () => {
      const bare = createImageFactsSource({ ...(registry.caFile ? { caFile: registry.caFile } : {}) }, {});
      try {
        const credentials = { auths: { [`https://${registry.host}`]: { auth: Buffer.from('<token>:').toString('base64'), identitytoken: registry.tokenIssuer?.refreshToken ?? '' } } };
        const r = await bare.lookup((images['user-1000'] as TestImage).ref, { platform: amd64, deadline: soon(), credentials });
        expect(r.ok && r.facts.user).toBe('1000');
      } finally {
        await bare.close();
      }
    });

    it('pulls anonymously where the token service allows it', async () => {
      const pub = await pushTestImages(registry, { prefix: 'public/', only: ['user-nginx'] });
      const bare = createImageFactsSource({ ...(registry.caFile ? { caFile: registry.caFile } : {}) }, {});
      try {
        const r = await bare.lookup((pub['user-nginx'] as TestImage).ref, { platform: amd64, deadline: soon() });
        expect(r.ok && r.facts.user).toBe('nginx');
      } finally {
        await bare.close();
      }
    });
  }

  if (tls) {
    it('fails with REGISTRY_UNREACHABLE when the registry CA is not trusted', async () => {
      const bare = createImageFactsSource({}, {});
      try {
        const r = await bare.lookup((images['user-0'] as TestImage).ref, { platform: amd64, deadline: soon(), ...creds() });
        expect(!r.ok && r.error.code).toBe('REGISTRY_UNREACHABLE');
      } finally {
        await bare.close();
      }
    });
  }
});
