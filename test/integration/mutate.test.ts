// /mutate through the real app (inject) over a real registry (Debian's distribution registry): pins what was checked,
// answers in time whatever the registry does, and never lets a tag that moves between two requests split the digest
// that is pinned from the digest that is vouched for.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/cli/runtime.js';
import { buildApp } from '../../src/server/app.js';
import { generatedTlsSource } from '../../src/server/tls.js';
import { PINNED_ANNOTATION } from '../../src/admission/patch.js';
import { parseReference } from '../../src/images/reference.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { RegistryWriter, keyPair, legacySignWithKey, type PushedImage } from '../helpers/cosign-format.js';
import { startFaultProxy, type FaultProxy } from '../helpers/registry-proxy.js';
import { listenLoopback } from '../helpers/listen.js';
import { applyPatch } from '../helpers/json-patch.js';
import { KINDS, compliantSpec, objectOf, reviewOf } from '../helpers/pods.js';
import type { Json } from '../helpers/pods.js';

const POD = KINDS[0]!;
const DEPLOYMENT = KINDS.find((k) => k.kind === 'Deployment')!;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';

let registry: TestRegistry;
let w: RegistryWriter;
let flip: { host: string; tagRequests: number; stop(): Promise<void> };
let faults: FaultProxy;
let signed: PushedImage;
let rootUnsigned: PushedImage;
let dir: string;
let runtime: Runtime;
let app: FastifyInstance;
let metrics: Registry;
const key = keyPair('p256');

// An image whose config User is `user`, tagged `tag` in `repository`.
async function imageAs(repository: string, user: string, tag: string): Promise<PushedImage> {
  const config = await w.blob(repository, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { User: user }, rootfs: { type: 'layers', diff_ids: [] }, tag })));
  const m = await w.manifest(repository, { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size }, layers: [] }, tag);
  const name = `${registry.host}/${repository}`;
  return { name, repository, digest: m.digest, ref: `${name}@${m.digest}` };
}

// A registry front that answers the tag team/flip:v1 with the signed image the first time and the unsigned root image
// every time after (a tag moved between two requests, or a registry that answers differently the second time).
async function startFlippingRegistry(upstream: string): Promise<typeof flip> {
  const state = { host: '', tagRequests: 0, stop: async () => {} };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let path = req.url ?? '/';
    if (/\/v2\/team\/flip\/manifests\/v1$/.test(path)) path = path.replace(/v1$/, state.tagRequests++ === 0 ? 'signed' : 'root');
    const up = request(`${upstream}${path}`, { method: req.method, headers: { ...req.headers, host: new URL(upstream).host } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  const listening = await listenLoopback(server);
  return Object.assign(state, { host: listening.host, stop: listening.stop });
}

function configFile(): string {
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    `apiVersion: portcullis.dev/v1alpha1
kind: PortcullisConfig
registry:
  insecure: ["${registry.host}", "${flip.host}", "${faults.host}"]
  timeout: 5s
  cache: { tagTtl: 0s, failureTtl: 0s }
policies:
  require-non-root-user: { action: deny }
  require-drop-all-capabilities: { action: off }
  disallow-latest-tag: { action: deny }
  require-read-only-root-filesystem: { action: off }
  require-signed-images:
    action: deny
    authorities: { team: { key: ${JSON.stringify(key.publicPem)}, ignoreTlog: true } }
    images: [{ pattern: "${flip.host}/**", authorities: [team] }]
    noMatch: allow
`,
  );
  return file;
}

const podWith = (containers: Json[], extra: (spec: Json) => void = () => undefined): Json => {
  const spec = compliantSpec();
  spec.containers = containers.map((c) => ({ ...c, securityContext: { readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } } }));
  delete spec.securityContext;
  extra(spec);
  return objectOf(POD, spec, 'web');
};

async function post(path: string, body: Json): Promise<{ status: number; response: Json }> {
  const res = await app.inject({ method: 'POST', url: path, payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.statusCode, response: (res.json() as Json).response as Json };
}

const patchOf = (response: Json): Array<{ op: string; path: string; value?: unknown }> => (response.patch ? JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) : []);

async function mutate(object: Json, opts: Parameters<typeof reviewOf>[1] = {}, path = '/mutate') {
  const { status, response } = await post(path, reviewOf(object, opts));
  expect(status).toBe(200);
  expect(response.allowed).toBe(true);
  return { response, patched: applyPatch(object, patchOf(response)) };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-mutate-'));
  registry = await startRegistry({ auth: 'none', tls: false });
  w = new RegistryWriter(registry.host);
  signed = await imageAs('team/flip', '1000', 'signed');
  rootUnsigned = await imageAs('team/flip', '0', 'root');
  await legacySignWithKey(w, signed, key.privateKey);
  await imageAs('team/app', '1000', '1.0');
  flip = await startFlippingRegistry(registry.url);
  faults = await startFaultProxy(registry.url);
  runtime = await createRuntime({ configPath: configFile(), logger: pino({ level: 'silent' }), watch: false });
  metrics = new Registry();
  const tls = generatedTlsSource(['127.0.0.1'], join(dir, 'certs'));
  ({ app } = await buildApp({ engine: runtime.engine, tls: tls.source, logger: pino({ level: 'silent' }), metrics }));
  await app.ready();
}, 120_000);

afterAll(async () => {
  await app?.close();
  await runtime?.close();
  await flip?.stop();
  await faults?.stop();
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  flip.tagRequests = 0;
  faults.reset();
});

describe('/mutate pins what /validate checks', () => {
  it('pins a tag to the digest it names, keeps the tag, annotates the Pod, and /validate then allows it', async () => {
    const pod = podWith([{ name: 'app', image: `${faults.host}/team/app:1.0` }]);
    const { response, patched } = await mutate(pod);
    expect(response.patchType).toBe('JSONPatch');
    const image = patched.spec.containers[0].image as string;
    expect(image).toMatch(new RegExp(`^${faults.host}/team/app:1\\.0@sha256:[0-9a-f]{64}$`));
    const digest = parseReference(image).digest;
    expect(patched.metadata.annotations[PINNED_ANNOTATION]).toBe(`app=${digest}`);
    const tagAsks = () => faults.seen.filter((s) => s.path.endsWith('/manifests/1.0')).length;
    expect(tagAsks()).toBe(1);
    const { response: verdict } = await post('/validate', reviewOf(patched));
    expect(verdict).toMatchObject({ allowed: true });
    expect(verdict.warnings ?? []).toEqual([]);
    expect(tagAsks()).toBe(1); // checked at the pinned digest: the tag is not asked again
    expect(await metrics.getSingleMetricAsString('portcullis_pinned_images_total')).toContain('result="pinned"} 1');
  });

  it('resolves a tag once per review: a registry that answers the tag differently the second time cannot split what is checked', async () => {
    const pod = podWith([{ name: 'app', image: `${flip.host}/team/flip:v1` }]);
    // one validation: image facts (User 1000) and signature (signed) both at the first answer, one tag request
    const first = await post('/validate', reviewOf(pod));
    expect(first.response).toMatchObject({ allowed: true });
    expect(flip.tagRequests).toBe(1);
    // the next answer is the unsigned root image: refused for both reasons, at the same digest
    const second = await post('/validate', reviewOf(pod));
    expect(second.response.allowed).toBe(false);
    expect(second.response.status.message).toContain('[require-non-root-user]');
    expect(second.response.status.message).toContain('[require-signed-images]');
    expect(second.response.status.message).toContain(rootUnsigned.digest.slice(0, 19));
  });

  it('pins the digest it vouches for: what /mutate pinned is what /validate checks, whatever the tag says later', async () => {
    const pod = podWith([{ name: 'app', image: `${flip.host}/team/flip:v1` }]);
    const { patched } = await mutate(pod); // first answer: the signed image
    expect(patched.spec.containers[0].image).toBe(`${flip.host}/team/flip:v1@${signed.digest}`);
    expect((await post('/validate', reviewOf(patched))).response).toMatchObject({ allowed: true });
    const again = await mutate(pod); // the tag now names the unsigned root image: pinned to it, and refused for it
    expect(again.patched.spec.containers[0].image).toBe(`${flip.host}/team/flip:v1@${rootUnsigned.digest}`);
    const verdict = (await post('/validate', reviewOf(again.patched))).response;
    expect(verdict.allowed).toBe(false);
    expect(verdict.status.message).toContain(rootUnsigned.digest.slice(0, 19));
    expect(flip.tagRequests).toBe(2);
  });

  it('patches nothing for dry runs, audit mode or templates, and says what it would have pinned', async () => {
    const pod = podWith([{ name: 'app', image: `${faults.host}/team/app:1.0` }]);
    for (const [opts, path] of [[{ dryRun: true }, '/mutate'], [{}, '/mutate/audit']] as const) {
      const { response } = await mutate(pod, opts, path);
      expect(response.patch).toBeUndefined();
      expect(response.warnings).toEqual([expect.stringMatching(/^\[pinning\] (dry run|audit mode), not pinned: container "app" \(containers\[0\]\): .*team\/app:1\.0 would be pinned to .*@sha256:/)]);
    }
    const deployment = objectOf(DEPLOYMENT, podWith([{ name: 'app', image: `${faults.host}/team/app:1.0` }]).spec);
    const { response } = await mutate(deployment);
    expect(response.patch).toBeUndefined();
    expect(response.warnings).toBeUndefined();
  });

  it('warns at /validate about a Pod that arrives unpinned', async () => {
    const pod = podWith([{ name: 'app', image: `${faults.host}/team/app:1.0` }]);
    const { response } = await post('/validate', reviewOf(pod));
    expect(response.allowed).toBe(true);
    expect(response.warnings).toEqual([expect.stringContaining('[pinning] container "app" (containers[0]): image')]);
  });

  it('pins only the new container of a kubectl debug update, without an annotation', async () => {
    const image = `${faults.host}/team/app:1.0`;
    const old = podWith([{ name: 'app', image: `${faults.host}/team/app:1.0@sha256:${'a'.repeat(64)}` }], (s) => (s.ephemeralContainers = [{ name: 'debugger-1', image }]));
    const now = structuredClone(old);
    now.spec.ephemeralContainers.push({ name: 'debugger-2', image });
    const { response, patched } = await mutate(now, { operation: 'UPDATE', subResource: 'ephemeralcontainers', oldObject: old });
    expect(patchOf(response).map((o) => o.path)).toEqual(['/spec/ephemeralContainers/1/image']);
    expect(patched.spec.ephemeralContainers[1].image).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(patched.spec.ephemeralContainers[0].image).toBe(image);
  });
});

describe('/mutate under bad input and a failing registry', () => {
  it('answers in time with no patch when the registry hangs, and the Pod is then decided by /validate', async () => {
    faults.inject({ fault: { kind: 'hang' }, times: Infinity });
    const pod = podWith([{ name: 'app', image: `${faults.host}/team/app:1.0` }]);
    const started = Date.now();
    const res = await app.inject({ method: 'POST', url: '/mutate?timeout=1s', payload: JSON.stringify(reviewOf(pod)), headers: { 'content-type': 'application/json' } });
    expect(Date.now() - started).toBeLessThan(1000);
    const response = (res.json() as Json).response as Json;
    expect(res.statusCode).toBe(200);
    expect(response).toMatchObject({ allowed: true });
    expect(response.patch).toBeUndefined();
    expect(response.warnings).toEqual([expect.stringContaining('image "' + `${faults.host}/team/app:1.0" not pinned`)]);
  });

  it('pins nothing for an image the registry refuses or does not have, and never answers 5xx', async () => {
    faults.inject({ fault: { kind: 'status', status: 500 }, times: Infinity, match: /team\/app/ });
    const pod = podWith([{ name: 'app', image: `${faults.host}/team/app:1.0` }, { name: 'gone', image: `${registry.host}/team/missing:1` }]);
    const { response } = await mutate(pod);
    expect(response.patch).toBeUndefined();
    expect(response.warnings).toHaveLength(2);
  });

  it('leaves unparsable references alone and answers a Pod of thousands of containers with a patch that keeps it valid', async () => {
    const containers = Array.from({ length: 3000 }, (_, i) => ({ name: `c${i}`, image: i % 1000 === 7 ? 'Not:A:Ref' : `${faults.host}/team/app:1.0` }));
    const pod = podWith(containers);
    const { response, patched } = await mutate(pod);
    const ops = patchOf(response);
    expect(ops).toHaveLength(2998);
    for (const c of patched.spec.containers as Json[]) {
      if (c.image === 'Not:A:Ref') continue;
      expect(parseReference(c.image).digest).toMatch(/^sha256:/);
    }
  });

  it('refuses a malformed review with a 4xx', async () => {
    const res = await app.inject({ method: 'POST', url: '/mutate', payload: '{"kind":"AdmissionReview"}', headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(400);
  });
});
