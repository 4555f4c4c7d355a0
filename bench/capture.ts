// Captures the bench payloads from a real kube-apiserver: starts the e2e control plane (test/e2e/cluster.ts),
// registers a webhook pointing at a tiny capturing HTTPS server, creates the three objects with kubectl, and
// saves the AdmissionReviews the API server sent into bench/payloads/<name>.json.
//   node --import ./bench/hooks.ts bench/capture.ts       (needs scripts/go-tools.sh kubernetes etcd, and npm run build)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startCluster } from '../test/e2e/cluster.js';
import { benchContainer, PAYLOAD_DIR, type Json, type PayloadName } from './payloads.js';
import { CLI } from './tools.js';

const log = (m: string) => process.stderr.write(`[capture] ${m}\n`);

// A container as a user writes it: the service-account mount is the API server's to add.
function userContainer(i: number): Json {
  const c = benchContainer(i);
  c.volumeMounts = (c.volumeMounts as Json[]).filter((m) => m.name === 'tmp');
  return c;
}

function podSpec(containers: Json[]): Json {
  return { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, volumes: [{ name: 'tmp', emptyDir: {} }], containers };
}

const OBJECTS: Array<{ payload: PayloadName; kind: string; name: string; verb: 'create' | 'apply'; manifest: Json }> = [
  { payload: 'pod-1c', kind: 'Pod', name: 'bench-one', verb: 'create', manifest: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bench-one', labels: { app: 'bench-one', 'app.kubernetes.io/part-of': 'bench' } }, spec: podSpec([userContainer(0)]) } },
  { payload: 'pod-10c', kind: 'Pod', name: 'bench-ten', verb: 'create', manifest: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bench-ten', labels: { app: 'bench-ten', 'app.kubernetes.io/part-of': 'bench' } }, spec: podSpec(Array.from({ length: 10 }, (_, i) => userContainer(i))) } },
  {
    payload: 'deployment',
    kind: 'Deployment',
    name: 'bench-deploy',
    verb: 'apply',
    manifest: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'bench-deploy', labels: { app: 'bench-deploy' } },
      spec: { replicas: 3, selector: { matchLabels: { app: 'bench-deploy' } }, template: { metadata: { labels: { app: 'bench-deploy' } }, spec: podSpec([userContainer(0), userContainer(1)]) } },
    },
  },
];

const dir = mkdtempSync(join(tmpdir(), 'portcullis-capture-'));
execFileSync(process.execPath, [CLI, 'cert', '--out-dir', dir, '--san', '127.0.0.1'], { stdio: 'pipe' });
const captured = new Map<string, Json>();
const server = createServer({ key: readFileSync(join(dir, 'tls.key')), cert: readFileSync(join(dir, 'tls.crt')) }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json;
    const r = review.request as Json;
    if (!r.dryRun) captured.set(`${r.kind.kind}/${r.name}`, review);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ apiVersion: review.apiVersion, kind: 'AdmissionReview', response: { uid: r.uid, allowed: true } }));
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const addr = server.address();
const port = typeof addr === 'object' && addr ? addr.port : 0;

const cluster = await startCluster({ controllerManager: false, log });
try {
  const kubectl = async (args: string[], input?: string) => {
    const r = await cluster.kubectl(args, input === undefined ? {} : { input });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await kubectl(['create', 'namespace', 'bench']);
  await kubectl(['create', 'serviceaccount', 'default', '-n', 'bench']);
  const webhook = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: 'bench-capture' },
    webhooks: [
      {
        name: 'capture.bench.portcullis.dev',
        clientConfig: { url: `https://127.0.0.1:${port}/capture`, caBundle: readFileSync(join(dir, 'ca.crt')).toString('base64') },
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'bench' } },
        rules: [
          { operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' },
          { operations: ['CREATE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'], scope: 'Namespaced' },
        ],
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        timeoutSeconds: 10,
        failurePolicy: 'Fail',
      },
    ],
  };
  await kubectl(['apply', '-f', '-'], stringify(webhook));
  for (const o of OBJECTS) {
    const key = `${o.kind}/${o.name}`;
    // the API server picks the webhook configuration up within a few seconds: retry until it is called
    for (let attempt = 0; attempt < 30 && !captured.has(key); attempt++) {
      await kubectl([o.verb, '-n', 'bench', '-f', '-'], stringify(o.manifest));
      if (!captured.has(key)) {
        await kubectl(['delete', o.kind.toLowerCase(), o.name, '-n', 'bench', '--wait=false']);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    const review = captured.get(key);
    if (!review) throw new Error(`expected the API server to call the webhook for ${key}, got nothing`);
    const file = join(PAYLOAD_DIR, `${o.payload}.json`);
    writeFileSync(file, `${JSON.stringify(review, null, 2)}\n`);
    log(`${key}: ${Buffer.byteLength(JSON.stringify(review))} bytes -> ${file}`);
  }
} finally {
  await cluster.stop();
  server.close();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
