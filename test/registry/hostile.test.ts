// Hostile registry answers: each gives a typed error, never a crash, a hang past the deadline or unbounded memory.

import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/images/client.js';
import { createImageFactsSource, type ImageFactsSource } from '../../src/images/facts.js';
import { makeImage, sha256, startGarbageServer, startHostileServer, type HostileServer } from '../helpers/registry-hostile.js';

const amd64 = { os: 'linux', architecture: 'amd64' };
const soon = (ms = 10_000) => Date.now() + ms;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

let hostile: HostileServer;
let other: HostileServer;
let source: ImageFactsSource;

beforeAll(async () => {
  hostile = await startHostileServer();
  other = await startHostileServer();
});
afterAll(async () => {
  await hostile.stop();
  await other.stop();
});
beforeEach(() => {
  hostile.seen.length = 0;
  other.seen.length = 0;
  source = createImageFactsSource({ insecure: [hostile.host, other.host], maxResponseBytes: 64 * 1024 }, {});
});
afterEach(async () => {
  await source.close();
});

const ref = () => `${hostile.host}/evil/image:v1`;
async function code(image = ref(), deadline = soon()): Promise<string> {
  const r = await source.lookup(image, { platform: amd64, deadline });
  return r.ok ? 'ok' : r.error.code;
}

// Serves an image whose parts can be overridden.
function serve(img: ReturnType<typeof makeImage>, o: { manifest?: string; manifestHeaders?: Record<string, string>; config?: string } = {}) {
  hostile.handler = (_req, res, url) => {
    if (url.pathname.includes('/manifests/')) {
      res.writeHead(200, { 'content-type': OCI_MANIFEST, 'docker-content-digest': img.manifestDigest, ...(o.manifestHeaders ?? {}) });
      res.end(o.manifest ?? img.manifest);
    } else if (url.pathname.includes('/blobs/')) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(o.config ?? img.config);
    } else res.writeHead(404).end();
  };
}

describe('hostile registry answers', () => {
  it('serves a well-formed image (control)', async () => {
    serve(makeImage('1000'));
    expect(await code()).toBe('ok');
  });

  it('DIGEST_MISMATCH: manifest bytes do not match the Docker-Content-Digest header', async () => {
    const img = makeImage('1000');
    serve(img, { manifestHeaders: { 'docker-content-digest': sha256('something else') } });
    expect(await code()).toBe('DIGEST_MISMATCH');
  });

  it('DIGEST_MISMATCH: manifest fetched by digest does not hash to it', async () => {
    const img = makeImage('1000');
    serve(img, { manifest: makeImage('0').manifest });
    expect(await code(`${hostile.host}/evil/image@${img.manifestDigest}`)).toBe('DIGEST_MISMATCH');
  });

  it('DIGEST_MISMATCH: config blob does not hash to its descriptor', async () => {
    const img = makeImage('1000');
    serve(img, { config: makeImage('0').config });
    expect(await code()).toBe('DIGEST_MISMATCH');
  });

  it('RESPONSE_TOO_LARGE: Content-Length over the limit', async () => {
    hostile.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': String(10 * 1024 * 1024) });
      res.write('{');
      // never completes; the client must stop reading
    };
    expect(await code()).toBe('RESPONSE_TOO_LARGE');
  });

  it('RESPONSE_TOO_LARGE: an endless chunked body', async () => {
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    hostile.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': OCI_MANIFEST });
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('error', () => {});
      pump();
    };
    expect(await code()).toBe('RESPONSE_TOO_LARGE');
  });

  it('RESPONSE_TOO_LARGE: config descriptor larger than the limit is not fetched', async () => {
    const img = makeImage('1000');
    const m = JSON.parse(img.manifest);
    m.config.size = 10 * 1024 * 1024;
    const manifest = JSON.stringify(m);
    serve(img, { manifest, manifestHeaders: { 'docker-content-digest': sha256(manifest) } });
    expect(await code()).toBe('RESPONSE_TOO_LARGE');
    expect(hostile.seen.some((s) => s.path.includes('/blobs/'))).toBe(false);
  });

  it.each([
    ['invalid JSON', 'not json {'],
    ['a JSON array', '[]'],
    ['schemaVersion 1', JSON.stringify({ schemaVersion: 1, name: 'x' })],
    ['an unknown media type', JSON.stringify({ schemaVersion: 2, mediaType: 'application/x-evil', config: {} })],
    ['a bad config digest', JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: 'sha256:../../etc', size: 2 } })],
    ['a negative size', JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256('x'), size: -1 } })],
    ['an index without manifests', JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: 'nope' })],
    ['a non-image config media type', JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: sha256('{}'), size: 2 } })],
  ])('INVALID_MANIFEST: %s', async (_name, manifest) => {
    hostile.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': OCI_MANIFEST }).end(manifest);
    };
    expect(await code()).toBe('INVALID_MANIFEST');
  });

  it.each([
    ['invalid JSON', '{"os":'],
    ['no os/architecture', '{"config":{}}'],
    ['a numeric User', JSON.stringify({ os: 'linux', architecture: 'amd64', config: { User: 0 } })],
    ['config not an object', JSON.stringify({ os: 'linux', architecture: 'amd64', config: 'root' })],
  ])('INVALID_CONFIG: %s', async (_name, config) => {
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: Buffer.byteLength(config) }, layers: [] });
    hostile.handler = (_req, res, url) => {
      if (url.pathname.includes('/manifests/')) res.writeHead(200, { 'content-type': OCI_MANIFEST }).end(manifest);
      else res.writeHead(200).end(config);
    };
    expect(await code()).toBe('INVALID_CONFIG');
  });

  it('TOO_MANY_REDIRECTS: a redirect loop', async () => {
    hostile.handler = (_req, res, url) => {
      res.writeHead(302, { location: url.pathname.endsWith('/a') ? url.pathname.replace(/\/a$/, '/b') : `${url.pathname.replace(/\/b$/, '')}/a` }).end();
    };
    expect(await code()).toBe('TOO_MANY_REDIRECTS');
  });

  it('drops Authorization when a blob redirect leaves the registry origin', async () => {
    const img = makeImage('1000');
    hostile.handler = (req, res, url) => {
      if (req.headers.authorization !== 'Basic dTpw') {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="evil"' }).end();
      } else if (url.pathname.includes('/manifests/')) {
        res.writeHead(200, { 'content-type': OCI_MANIFEST }).end(img.manifest);
      } else {
        res.writeHead(307, { location: `${other.url}/storage/${img.configDigest}` }).end();
      }
    };
    other.handler = (_req, res) => res.writeHead(200).end(img.config);
    const r = await source.lookup(ref(), { platform: amd64, deadline: soon(), credentials: { auths: { [hostile.host]: { username: 'u', password: 'p' } } } });
    expect(r.ok && r.facts.user).toBe('1000');
    expect(other.seen).toHaveLength(1);
    expect(other.seen[0]?.authorization).toBeUndefined();
  });

  it('REGISTRY_UNAUTHORIZED: a 401 with no challenge', async () => {
    hostile.handler = (_req, res) => res.writeHead(401).end();
    expect(await code()).toBe('REGISTRY_UNAUTHORIZED');
  });

  it('REGISTRY_UNAUTHORIZED: a bearer token that the registry keeps refusing', async () => {
    hostile.handler = (_req, res, url) => {
      if (url.pathname === '/token') res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"abc"}');
      else res.writeHead(401, { 'www-authenticate': `Bearer realm="${hostile.url}/token",service="evil"` }).end();
    };
    expect(await code()).toBe('REGISTRY_UNAUTHORIZED');
  });

  it.each([
    ['garbage', 'this is not json'],
    ['JSON without a token', '{"expires_in":60}'],
    ['a token with a newline', JSON.stringify({ token: 'a\r\nX-Injected: 1' })],
    ['a JSON string', '"token"'],
  ])('TOKEN_INVALID: the token realm answers %s', async (_name, body) => {
    hostile.handler = (_req, res, url) => {
      if (url.pathname === '/token') res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      else res.writeHead(401, { 'www-authenticate': `Bearer realm="${hostile.url}/token",service="evil",scope="repository:evil/image:pull"` }).end();
    };
    expect(await code()).toBe('TOKEN_INVALID');
  });

  it('TOKEN_INVALID: a realm that is not an http(s) URL', async () => {
    hostile.handler = (_req, res) => res.writeHead(401, { 'www-authenticate': 'Bearer realm="file:///etc/passwd",service="evil"' }).end();
    expect(await code()).toBe('TOKEN_INVALID');
  });

  it('REGISTRY_TIMEOUT: a body that drips past the deadline', async () => {
    hostile.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': OCI_MANIFEST });
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(' ')), 20);
      res.on('close', () => clearInterval(t));
    };
    expect(await code(ref(), soon(300))).toBe('REGISTRY_TIMEOUT');
  });

  it('REGISTRY_UNREACHABLE: a server that does not speak HTTP', async () => {
    const garbage = await startGarbageServer();
    try {
      await source.close();
      source = createImageFactsSource({ insecure: [garbage.host] }, {});
      expect(await code(`${garbage.host}/evil/image:v1`)).toBe('REGISTRY_UNREACHABLE');
    } finally {
      await garbage.stop();
    }
  });

  it('PLATFORM_NOT_FOUND: an index with only attestation entries', async () => {
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ mediaType: OCI_MANIFEST, digest: sha256('x'), size: 1, platform: { os: 'unknown', architecture: 'unknown' } }],
    });
    hostile.handler = (_req, res) => res.writeHead(200, { 'content-type': OCI_INDEX }).end(index);
    expect(await code()).toBe('PLATFORM_NOT_FOUND');
  });

  it('INVALID_MANIFEST: indexes nested too deep', async () => {
    const inner = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] as object[] });
    let chain = inner;
    for (let i = 0; i < 3; i++) {
      chain = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_INDEX, digest: sha256(chain), size: Buffer.byteLength(chain), platform: amd64 }] });
    }
    const byDigest = new Map<string, string>();
    let c = inner;
    byDigest.set(sha256(c), c);
    for (let i = 0; i < 3; i++) {
      c = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_INDEX, digest: sha256(c), size: Buffer.byteLength(c), platform: amd64 }] });
      byDigest.set(sha256(c), c);
    }
    hostile.handler = (_req, res, url) => {
      const last = url.pathname.split('/').pop() ?? '';
      res.writeHead(200, { 'content-type': OCI_INDEX }).end(byDigest.get(last) ?? chain);
    };
    expect(await code()).toBe('INVALID_MANIFEST');
  });

  it('INVALID_REFERENCE: a reference that does not parse, without a request', async () => {
    expect(await code('UPPER/Case:tag')).toBe('INVALID_REFERENCE');
    expect(hostile.seen).toHaveLength(0);
  });
});

describe('source lifecycle', () => {
  it('answers REGISTRY_DISABLED when disabled, SOURCE_CLOSED after close', async () => {
    const off = createImageFactsSource({ enabled: false }, {});
    const r = await off.lookup(ref(), { platform: amd64, deadline: soon() });
    expect(!r.ok && r.error.code).toBe('REGISTRY_DISABLED');
    serve(makeImage('1000'));
    await source.close();
    expect(await code()).toBe('SOURCE_CLOSED');
    expect(hostile.seen).toHaveLength(0);
  });

  it('shares metrics when two sources use one prom-client Registry', async () => {
    const metrics = new Registry();
    const a = createImageFactsSource({ insecure: [hostile.host] }, { metrics });
    const b = createImageFactsSource({ insecure: [hostile.host] }, { metrics });
    serve(makeImage('1000'));
    await a.lookup(ref(), { platform: amd64, deadline: soon() });
    await b.lookup(ref(), { platform: amd64, deadline: soon() });
    await Promise.all([a.close(), b.close()]);
    expect(await metrics.metrics()).toMatch(/portcullis_image_lookup_duration_seconds_count\{result="ok"\} 2/);
  });
});

describe('referrers API', () => {
  it('reads the OCI 1.1 referrers API and filters by artifactType', async () => {
    const subject = sha256('subject');
    const sig = { mediaType: OCI_MANIFEST, digest: sha256('sig'), size: 3, artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json' };
    const sbom = { mediaType: OCI_MANIFEST, digest: sha256('sbom'), size: 4, artifactType: 'application/spdx+json' };
    hostile.handler = (_req, res, url) => {
      if (url.pathname === `/v2/evil/image/referrers/${subject}`) res.writeHead(200, { 'content-type': OCI_INDEX }).end(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [sig, sbom] }));
      else res.writeHead(404).end();
    };
    const client = new RegistryClient({ insecure: [hostile.host] });
    try {
      const repo = { registry: hostile.host, repository: 'evil/image' };
      expect(await client.referrers(repo, subject, undefined, { deadline: soon() })).toHaveLength(2);
      expect(await client.referrers(repo, subject, 'application/spdx+json', { deadline: soon() })).toEqual([sbom]);
    } finally {
      await client.close();
    }
  });

  it('follows Link rel="next" pages of the referrers API, within the repository and at most 8 pages', async () => {
    const subject = sha256('subject');
    const desc = (i: number) => ({ mediaType: OCI_MANIFEST, digest: sha256(`ref-${i}`), size: i, artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json' });
    const base = `/v2/evil/image/referrers/${subject}`;
    let pages = 20;
    let nextLink = (page: number) => `<${base}?n=1&last=${page}>; rel="next"`;
    hostile.handler = (_req, res, url) => {
      if (url.pathname !== base) return void res.writeHead(404).end();
      const page = Number(url.searchParams.get('last') ?? '0') + 1;
      const headers: Record<string, string> = { 'content-type': OCI_INDEX };
      if (page < pages) headers.link = nextLink(page);
      res.writeHead(200, headers).end(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [desc(page)] }));
    };
    const client = new RegistryClient({ insecure: [hostile.host] });
    try {
      const repo = { registry: hostile.host, repository: 'evil/image' };
      pages = 3;
      expect(await client.referrers(repo, subject, undefined, { deadline: soon() })).toEqual([desc(1), desc(2), desc(3)]);
      pages = 20;
      expect(await client.referrers(repo, subject, undefined, { deadline: soon() })).toHaveLength(8);
      nextLink = () => `</v2/other/repo/referrers/${subject}?last=1>; rel="next"`;
      hostile.seen.length = 0;
      expect(await client.referrers(repo, subject, undefined, { deadline: soon() })).toEqual([desc(1)]);
      expect(hostile.seen.filter((r) => r.path.includes('/referrers/'))).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  it('falls back to the sha256-<hex> tag when the API is missing', async () => {
    const subject = sha256('subject');
    const sig = { mediaType: OCI_MANIFEST, digest: sha256('sig'), size: 3, artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json' };
    hostile.handler = (_req, res, url) => {
      if (url.pathname === `/v2/evil/image/manifests/${subject.replace(':', '-')}`) res.writeHead(200, { 'content-type': OCI_INDEX }).end(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [sig] }));
      else res.writeHead(404).end();
    };
    const client = new RegistryClient({ insecure: [hostile.host] });
    try {
      expect(await client.referrers({ registry: hostile.host, repository: 'evil/image' }, subject, undefined, { deadline: soon() })).toEqual([sig]);
    } finally {
      await client.close();
    }
  });
});
