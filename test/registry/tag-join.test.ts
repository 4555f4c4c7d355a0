// A tag the image facts are fetching (GET) is not asked for again by signature verification (HEAD): resolve()
// joins the GET in flight, and falls back to its own HEAD when that GET fails.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/images/client.js';
import { makeImage, startHostileServer, type HostileServer } from '../helpers/registry-hostile.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const soon = () => Date.now() + 10_000;

let hostile: HostileServer;
let client: RegistryClient;
beforeAll(async () => {
  hostile = await startHostileServer();
});
afterAll(async () => {
  await client?.close();
  await hostile.stop();
});
beforeEach(async () => {
  hostile.seen.length = 0;
  await client?.close();
  client = new RegistryClient({ insecure: [hostile.host], maxTries: 1 });
});

// Answers manifest requests after a delay (so a GET is still in flight when resolve() is called).
function serveSlowly(img: ReturnType<typeof makeImage>, status = 200): void {
  hostile.handler = (req, res) => {
    setTimeout(() => {
      if (status !== 200) return void res.writeHead(status).end();
      res.writeHead(200, { 'content-type': OCI_MANIFEST, 'docker-content-digest': img.manifestDigest, 'content-length': String(Buffer.byteLength(img.manifest)) });
      res.end(req.method === 'HEAD' ? undefined : img.manifest);
    }, 50);
  };
}

describe('resolve() joins a manifest GET of the same tag', () => {
  it('answers from the GET in flight: one request, the same digest', async () => {
    const img = makeImage('1000');
    serveSlowly(img);
    const repo = { registry: hostile.host, repository: 'team/app' };
    const [fetched, resolved] = await Promise.all([client.getManifest(repo, 'v1', { deadline: soon() }), client.resolve(repo, 'v1', { deadline: soon() })]);
    expect(resolved.digest).toBe(fetched.digest);
    expect(resolved.digest).toBe(img.manifestDigest);
    expect(hostile.seen.map((r) => r.method)).toEqual(['GET']);
  });

  it('sends its own HEAD when no GET is in flight, or for another tag or repository', async () => {
    serveSlowly(makeImage('1000'));
    const repo = { registry: hostile.host, repository: 'team/app' };
    await client.resolve(repo, 'v1', { deadline: soon() });
    await Promise.all([client.getManifest(repo, 'v1', { deadline: soon() }), client.resolve(repo, 'v2', { deadline: soon() }), client.resolve({ ...repo, repository: 'team/other' }, 'v1', { deadline: soon() })]);
    expect(hostile.seen.map((r) => `${r.method} ${r.path}`).sort()).toEqual(['GET /v2/team/app/manifests/v1', 'HEAD /v2/team/app/manifests/v1', 'HEAD /v2/team/app/manifests/v2', 'HEAD /v2/team/other/manifests/v1']);
  });

  it('falls back to its own HEAD when the GET it joined fails', async () => {
    serveSlowly(makeImage('1000'), 404);
    const repo = { registry: hostile.host, repository: 'team/app' };
    const [get, head] = await Promise.allSettled([client.getManifest(repo, 'v1', { deadline: soon() }), client.resolve(repo, 'v1', { deadline: soon() })]);
    expect(get.status).toBe('rejected');
    expect(head.status === 'rejected' && (head.reason as { code: string }).code).toBe('REGISTRY_NOT_FOUND');
    expect(hostile.seen.map((r) => r.method).sort()).toEqual(['GET', 'HEAD']);
  });
});
