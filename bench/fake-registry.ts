// A synthetic OCI registry on 127.0.0.1 for the image benchmarks: every repository exists, each with its own
// single-platform image (linux/amd64, config User 10001) under any tag, so any number of distinct images costs
// nothing to "push". It speaks the part of the Distribution API portcullis uses (GET/HEAD manifests by tag or
// digest, GET blobs, GET /v2/) and counts every request, like an access log.
//   node bench/fake-registry.ts [--port N] [--delay-ms D]     prints "listening on host:port"
//   GET /_stats -> {"total": n, "byRepository": {...}, "byKind": {...}};   POST /_reset clears the counts
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

interface Image {
  manifest: Buffer;
  manifestDigest: string;
  config: Buffer;
  configDigest: string;
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
  images.set(repository, image);
  return image;
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

const ROUTE = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/;

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
  if (!m || (req.method !== 'GET' && !head)) return send(res, 404, { 'content-type': 'application/json' }, '{"errors":[{"code":"NOT_FOUND"}]}', head);
  const [, repository = '', kind = '', ref = ''] = m;
  count(repository, `${req.method} ${kind}`);
  const image = imageOf(repository);
  if (kind === 'manifests') {
    if (ref.startsWith('sha256:') && ref !== image.manifestDigest) return send(res, 404, { 'content-type': 'application/json' }, '{"errors":[{"code":"MANIFEST_UNKNOWN"}]}', head);
    return send(res, 200, { 'content-type': OCI_MANIFEST, 'content-length': image.manifest.length, 'docker-content-digest': image.manifestDigest }, image.manifest, head);
  }
  if (ref !== image.configDigest) return send(res, 404, { 'content-type': 'application/json' }, '{"errors":[{"code":"BLOB_UNKNOWN"}]}', head);
  return send(res, 200, { 'content-type': 'application/octet-stream', 'content-length': image.config.length, 'docker-content-digest': image.configDigest }, image.config, head);
}

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, 'delay-ms': { type: 'string', default: '0' } } });
const delayMs = Number(values['delay-ms']);
const server = createServer((req, res) => {
  if (delayMs > 0 && !(req.url ?? '').startsWith('/_')) setTimeout(() => handle(req, res), delayMs);
  else handle(req, res);
});
server.keepAliveTimeout = 60_000;
server.listen(Number(values.port), '127.0.0.1', () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  process.stdout.write(`listening on 127.0.0.1:${port}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
