// A synthetic OCI registry on 127.0.0.1 for the image benchmarks: every repository exists, each with its own
// single-platform image (linux/amd64, config User 10001) under any tag, so any number of distinct images costs
// nothing to "push". It speaks the part of the Distribution API portcullis uses (GET/HEAD manifests by tag or
// digest, GET blobs, GET /v2/) and counts every request, like an access log. With --sign-key, repositories
// named */signed-* also carry a cosign v2 signature (sha256-<hex>.sig manifest, simple-signing payload) made
// with that key; no repository has referrers (the API answers 404, as registries without it do).
//   node bench/fake-registry.ts [--port N] [--delay-ms D] [--sign-key PEM-FILE]     prints "listening on host:port"
//   GET /_stats -> {"total": n, "byRepository": {...}, "byKind": {...}};   POST /_reset clears the counts
import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';

interface Image {
  manifest: Buffer;
  manifestDigest: string;
  config: Buffer;
  configDigest: string;
  /** the cosign v2 signature: its manifest (served at sha256-<hex>.sig) and payload blob */
  signature?: { manifest: Buffer; digest: string; payload: Buffer; payloadDigest: string };
}

function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

const LAYER_DIGEST = sha256(Buffer.from('portcullis bench layer'));
const images = new Map<string, Image>();

// The image of a repository: its config names the repository, so every repository has its own digests.
function imageOf(repository: string): Image {
  let image = images.get(repository);
  if (image) return image;
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: '2026-01-01T00:00:00Z',
      config: { User: '10001', Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Labels: { 'org.opencontainers.image.source': `https://example.com/${repository}` } },
      rootfs: { type: 'layers', diff_ids: [sha256(Buffer.from(repository))] },
      history: [{ created: '2026-01-01T00:00:00Z', created_by: 'bench' }],
    }),
  );
  const configDigest = sha256(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
      layers: [{ mediaType: OCI_LAYER, digest: LAYER_DIGEST, size: 1024 }],
    }),
  );
  image = { manifest, manifestDigest: sha256(manifest), config, configDigest };
  if (signKey && /(^|\/)signed-/.test(repository)) image.signature = signatureOf(repository, image.manifestDigest, signKey);
  images.set(repository, image);
  return image;
}

const EMPTY_CONFIG = Buffer.from('{}');

// A cosign v2 signature of the digest: the simple-signing payload signed with the key (ECDSA P-256, SHA-256).
function signatureOf(repository: string, digest: string, key: KeyObject): NonNullable<Image['signature']> {
  const payload = Buffer.from(JSON.stringify({ critical: { identity: { 'docker-reference': `${host}/${repository}` }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' }, optional: null }));
  const payloadDigest = sha256(payload);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(EMPTY_CONFIG), size: EMPTY_CONFIG.length },
      layers: [{ mediaType: SIMPLE_SIGNING, digest: payloadDigest, size: payload.length, annotations: { 'dev.cosignproject.cosign/signature': sign('sha256', payload, key).toString('base64') } }],
    }),
  );
  return { manifest, digest: sha256(manifest), payload, payloadDigest };
}

const stats = { total: 0, byRepository: new Map<string, number>(), byKind: new Map<string, number>() };
function count(repository: string, kind: string): void {
  stats.total++;
  stats.byRepository.set(repository, (stats.byRepository.get(repository) ?? 0) + 1);
  stats.byKind.set(kind, (stats.byKind.get(kind) ?? 0) + 1);
}

function send(res: ServerResponse, status: number, headers: Record<string, string | number>, body: Buffer | string, head: boolean): void {
  res.writeHead(status, headers);
  res.end(head ? undefined : body);
}

const ROUTE = /^\/v2\/(.+)\/(manifests|blobs|referrers)\/([^/]+)$/;
const NOT_FOUND = '{"errors":[{"code":"NOT_FOUND"}]}';

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  const head = req.method === 'HEAD';
  if (url === '/_stats') {
    const body = JSON.stringify({ total: stats.total, byRepository: Object.fromEntries(stats.byRepository), byKind: Object.fromEntries(stats.byKind) });
    return send(res, 200, { 'content-type': 'application/json' }, body, false);
  }
  if (url === '/_reset' && req.method === 'POST') {
    stats.total = 0;
    stats.byRepository.clear();
    stats.byKind.clear();
    return send(res, 204, {}, '', true);
  }
  if (url === '/v2/' || url === '/v2') {
    count('', 'ping');
    return send(res, 200, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' }, '{}', head);
  }
  const m = ROUTE.exec(url.split('?')[0] ?? '');
  if (!m || (req.method !== 'GET' && !head)) return send(res, 404, { 'content-type': 'application/json' }, NOT_FOUND, head);
  const [, repository = '', kind = '', ref = ''] = m;
  count(repository, `${req.method} ${kind}`);
  if (kind === 'referrers') return send(res, 404, { 'content-type': 'text/plain' }, '404 page not found', head);
  const image = imageOf(repository);
  const sig = image.signature;
  if (kind === 'manifests') {
    // sha256-<hex>.sig is the signature; other sha256-<hex> tags (the referrers tag schema) do not exist
    if (sig && ref === `${image.manifestDigest.replace(':', '-')}.sig`) return send(res, 200, { 'content-type': OCI_MANIFEST, 'content-length': sig.manifest.length, 'docker-content-digest': sig.digest }, sig.manifest, head);
    if (ref.startsWith('sha256-') || (ref.startsWith('sha256:') && ref !== image.manifestDigest)) return send(res, 404, { 'content-type': 'application/json' }, '{"errors":[{"code":"MANIFEST_UNKNOWN"}]}', head);
    return send(res, 200, { 'content-type': OCI_MANIFEST, 'content-length': image.manifest.length, 'docker-content-digest': image.manifestDigest }, image.manifest, head);
  }
  const blob = ref === image.configDigest ? image.config : sig && ref === sig.payloadDigest ? sig.payload : undefined;
  if (!blob) return send(res, 404, { 'content-type': 'application/json' }, '{"errors":[{"code":"BLOB_UNKNOWN"}]}', head);
  return send(res, 200, { 'content-type': 'application/octet-stream', 'content-length': blob.length, 'docker-content-digest': ref }, blob, head);
}

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, 'delay-ms': { type: 'string', default: '0' }, 'sign-key': { type: 'string' } } });
const delayMs = Number(values['delay-ms']);
const signKey = values['sign-key'] ? createPrivateKey(readFileSync(values['sign-key'], 'utf8')) : undefined;
let host = '127.0.0.1';
const server = createServer((req, res) => {
  if (delayMs > 0 && !(req.url ?? '').startsWith('/_')) setTimeout(() => handle(req, res), delayMs);
  else handle(req, res);
});
server.keepAliveTimeout = 60_000;
server.listen(Number(values.port), '127.0.0.1', () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  host = `127.0.0.1:${port}`;
  process.stdout.write(`listening on ${host}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
