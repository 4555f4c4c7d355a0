// The bench as the API server sees it: a real etcd + kube-apiserver, each webhook registered in turn as the
// validating webhook for Pods, server-side dry-run Pod creates (dryRun=All: admission runs, nothing is stored) at
// fixed rates, and per webhook the API server's own apiserver_admission_webhook_admission_duration_seconds (bucket
// shares, not interpolated percentiles) beside the client-observed create latency.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type ClientHttp2Session } from 'node:http2';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { benchContainer } from './payloads.js';
import type { Certs, Target } from './targets.js';

/** The histogram's upper bounds (seconds), as kube-apiserver defines them. */
export const WEBHOOK_BUCKETS = [0.005, 0.025, 0.1, 0.5, 1, 2.5, 10, 25] as const;
const NAMESPACE = 'bench';

export interface ApiserverRun {
  /** 'no webhook', 'null webhook', 'portcullis', 'PSA webhook' */
  readonly webhook: string;
  readonly rate: number;
  readonly sent: number;
  /** creates answered 201 */
  readonly created: number;
  readonly errors: number;
  /** the first error's status and message */
  readonly firstError?: string;
  readonly achievedRate: number;
  /** client-observed create latency (ms) */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** client p99 of each round's window alone (ms) */
  readonly p99RoundsMs: readonly number[];
  /** webhook calls the API server counted in the window, and the share of them in each bucket (le -> fraction, not cumulative) */
  readonly webhookCalls: number;
  readonly bucketShares: Record<string, number>;
}

export interface ApiserverResults {
  readonly kubeApiserver: string;
  /** measured seconds per webhook and rate, over all rounds */
  readonly seconds: number;
  readonly rounds: number;
  readonly warmSeconds: number;
  readonly rates: number[];
  readonly runs: ApiserverRun[];
}

interface Client {
  readonly session: ClientHttp2Session;
  request(method: string, path: string, body?: string): Promise<{ status: number; text: string }>;
  close(): void;
}

// An HTTP/2 client with the kubeconfig's admin certificate (client-go speaks HTTP/2 to the API server too).
function apiClient(kubeconfig: string): Client {
  const kc = parseYaml(readFileSync(kubeconfig, 'utf8')) as { clusters: Array<{ cluster: Record<string, string> }>; users: Array<{ user: Record<string, string> }> };
  const cluster = kc.clusters[0]!.cluster;
  const user = kc.users[0]!.user;
  const b64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');
  const session = connect(cluster.server as string, { ca: b64(cluster['certificate-authority-data']), cert: b64(user['client-certificate-data']), key: b64(user['client-key-data']) });
  session.on('error', () => undefined);
  const request = (method: string, path: string, body?: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const stream = session.request({ ':method': method, ':path': path, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) });
      let status = 0;
      const chunks: Buffer[] = [];
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => resolve({ status, text: Buffer.concat(chunks).toString('utf8') }));
      stream.on('error', reject);
      stream.end(body);
    });
  return { session, request, close: () => session.close() };
}

// A Pod as a user submits it: one restricted-compliant container with runAsUser (no registry look-up), its image
// pinned to a digest as the mutating webhook leaves it (a tag-only image would get a [pinning] warning, which the
// API server then relays to the client: more work for it than the other webhooks' answers).
function userPod(): string {
  const container = benchContainer(0);
  container.image = `${String(container.image)}@sha256:${createHash('sha256').update(String(container.image)).digest('hex')}`;
  container.volumeMounts = [{ name: 'tmp', mountPath: '/tmp' }];
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'bench-pod', namespace: NAMESPACE, labels: { app: 'bench-pod' } },
    spec: { containers: [container], volumes: [{ name: 'tmp', emptyDir: {} }] },
  });
}

/** Per webhook name, cumulative bucket counts (le -> count) summed over operation, type and rejected. */
type Histograms = Map<string, Map<string, number>>;

// Reads apiserver_admission_webhook_admission_duration_seconds_bucket from the API server's /metrics.
async function webhookHistograms(client: Client): Promise<Histograms> {
  const { text } = await client.request('GET', '/metrics');
  const out: Histograms = new Map();
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_admission_webhook_admission_duration_seconds_bucket{')) continue;
    const name = /[{,]name="([^"]*)"/.exec(line)?.[1];
    const le = /[{,]le="([^"]*)"/.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (name === undefined || le === undefined) continue;
    const buckets = out.get(name) ?? new Map<string, number>();
    buckets.set(le, (buckets.get(le) ?? 0) + value);
    out.set(name, buckets);
  }
  return out;
}

// Calls per bucket between two scrapes (le -> calls in the window, cumulative as the histogram counts them).
function bucketCounts(before: Histograms, after: Histograms, name: string): Map<string, number> {
  const a = after.get(name) ?? new Map<string, number>();
  const b = before.get(name) ?? new Map<string, number>();
  return new Map([...WEBHOOK_BUCKETS.map(String), '+Inf'].map((le) => [le, (a.get(le) ?? 0) - (b.get(le) ?? 0)]));
}

// The calls of a webhook's windows, and each bucket's share of them (not cumulative).
function bucketShares(windows: readonly Window[]): { calls: number; shares: Record<string, number> } {
  const cumulative = (le: string) => windows.reduce((sum, w) => sum + (w.counts.get(le) ?? 0), 0);
  const calls = cumulative('+Inf');
  const shares: Record<string, number> = {};
  let below = 0;
  for (const le of [...WEBHOOK_BUCKETS.map(String), '+Inf']) {
    const c = cumulative(le);
    shares[le] = calls > 0 ? (c - below) / calls : 0;
    below = c;
  }
  return { calls, shares };
}

/** One measured window of a webhook: the creates sent, and the API server's bucket counts over it. */
interface Window {
  readonly fired: Fired;
  readonly counts: ReadonlyMap<string, number>;
  /** the window's client p99 alone (ms) */
  readonly p99Ms: number;
}

/** Rounds of measurement per rate (each webhook once per round). */
export const ROUNDS = 4;

// A webhook's row at one rate: its windows pooled (latency percentiles over every create of every round).
function runOf(webhook: string, rate: number, windows: readonly Window[]): ApiserverRun {
  const sum = (f: (w: Fired) => number) => windows.reduce((acc, w) => acc + f(w.fired), 0);
  const sorted = windows.flatMap((w) => w.fired.latencies).sort((a, b) => a - b);
  const firstError = windows.find((w) => w.fired.firstError)?.fired.firstError;
  const { calls, shares } = bucketShares(windows);
  return {
    webhook,
    rate,
    sent: sum((f) => f.sent),
    created: sum((f) => f.created),
    errors: sum((f) => f.errors),
    ...(firstError ? { firstError } : {}),
    achievedRate: sum((f) => f.created) / sum((f) => f.seconds),
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.at(-1) ?? 0,
    p99RoundsMs: windows.map((w) => w.p99Ms),
    webhookCalls: calls,
    bucketShares: shares,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

interface Fired {
  latencies: number[];
  sent: number;
  created: number;
  errors: number;
  firstError?: string;
  seconds: number;
}

// Sends dry-run creates at `rate`/s for `seconds` (open loop: on schedule, whatever the answers); latency is
// measured from the moment each request is handed to the HTTP/2 session to its last byte.
async function fire(client: Client, body: string, rate: number, seconds: number): Promise<Fired> {
  const total = Math.round(rate * seconds);
  const path = `/api/v1/namespaces/${NAMESPACE}/pods?dryRun=All`;
  const out: Fired = { latencies: [], sent: 0, created: 0, errors: 0, seconds };
  const pending: Array<Promise<void>> = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait); // no spinning: the client shares its CPU with kube-apiserver
    const sentAt = performance.now();
    out.sent++;
    pending.push(
      client.request('POST', path, body).then(
        (r) => {
          out.latencies.push(performance.now() - sentAt);
          if (r.status === 201) out.created++;
          else {
            out.errors++;
            out.firstError ??= `${r.status} ${r.text.slice(0, 300)}`;
          }
        },
        (err: Error) => {
          out.errors++;
          out.firstError ??= err.message;
        },
      ),
    );
  }
  await Promise.all(pending);
  out.seconds = (performance.now() - start) / 1000;
  return out;
}

interface Registration {
  readonly label: string;
  /** webhook name in the configuration and in the API server's metric */
  readonly name: string;
  readonly url: string;
}

function webhookConfiguration(r: Registration, caPem: string): string {
  return JSON.stringify({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: 'bench' },
    webhooks: [
      {
        name: r.name,
        clientConfig: { url: r.url, caBundle: Buffer.from(caPem).toString('base64') },
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }],
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': NAMESPACE } },
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        failurePolicy: 'Fail',
        timeoutSeconds: 10,
      },
    ],
  });
}

// Registers the webhook (replacing the last one) and waits until the API server calls it.
async function register(client: Client, r: Registration | undefined, caPem: string, body: string): Promise<void> {
  await client.request('DELETE', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/bench');
  if (!r) return void (await sleep(2000)); // the API server's webhook informer drops it within a second or so
  const res = await client.request('POST', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', webhookConfiguration(r, caPem));
  if (res.status !== 201) throw new Error(`registering ${r.label}: expected 201, got ${res.status} ${res.text.slice(0, 300)}`);
  for (let i = 0; i < 200; i++) {
    const before = (await webhookHistograms(client)).get(r.name)?.get('+Inf') ?? 0;
    await client.request('POST', `/api/v1/namespaces/${NAMESPACE}/pods?dryRun=All`, body);
    if (((await webhookHistograms(client)).get(r.name)?.get('+Inf') ?? 0) > before) return;
    await sleep(100);
  }
  throw new Error(`${r.label}: expected the API server to call ${r.name}, got no call in 20 s`);
}

// Pins every process whose command line mentions dir (etcd and kube-apiserver of this cluster) to one CPU.
function pinProcesses(dir: string, cpu: string): void {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.includes(dir)) execFileSync('taskset', ['-a', '-p', '-c', cpu, pid], { stdio: 'ignore' });
  }
}

export interface ApiserverOptions {
  readonly quick: boolean;
  readonly certs: Certs;
  readonly workDir: string;
  readonly pinned: boolean;
  readonly log: (msg: string) => void;
  /** starts a webhook server against this kubeconfig (PSA needs one); omitted webhooks are left out */
  readonly webhooks: ReadonlyArray<{ label: string; path: string; start: (kubeconfig: string) => Promise<Target> }>;
  readonly rates?: number[];
  readonly seconds?: number;
  readonly rounds?: number;
}

// Starts the control plane, then per rate measures every webhook (and none) in rounds, interleaved.
export async function runApiserver(o: ApiserverOptions): Promise<ApiserverResults> {
  const { startCluster } = await import('../test/e2e/cluster.js');
  const quietAudit = join(o.workDir, 'audit-none.yaml');
  writeFileSync(quietAudit, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: None\n');
  o.log('apiserver: starting etcd + kube-apiserver (test/e2e/cluster.ts, no controller manager, audit log off)');
  const cluster = await startCluster({ controllerManager: false, apiserverArgs: [`--audit-policy-file=${quietAudit}`], log: (m) => o.log(`apiserver: ${m}`) });
  const targets: Target[] = [];
  const client = apiClient(cluster.kubeconfig);
  try {
    if (o.pinned) {
      // etcd and kube-apiserver get CPU 1 to themselves; the client shares CPU 0 with the webhook under test (each
      // webhook in turn, so alike for all), as otherwise the API server saturates its core at 200 creates/s
      pinProcesses(cluster.dir, '1');
      execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
    }
    for (const args of [['create', 'namespace', NAMESPACE], ['-n', NAMESPACE, 'create', 'serviceaccount', 'default']]) {
      const r = await cluster.kubectl(args);
      if (r.code !== 0 && !r.stderr.includes('AlreadyExists')) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    }
    const version = JSON.parse((await client.request('GET', '/version')).text) as { gitVersion?: string };
    const registrations: Array<Registration | undefined> = [undefined];
    for (const w of o.webhooks) {
      o.log(`apiserver: starting ${w.label}`);
      const t = await w.start(cluster.kubeconfig);
      targets.push(t);
      registrations.push({ label: w.label, name: `${w.label.split(' ')[0]!.toLowerCase()}.bench.portcullis.dev`, url: `${t.base}${w.path}` });
    }
    const body = userPod();
    const rates = o.rates ?? (o.quick ? [200] : [100, 200, 400]);
    const seconds = o.seconds ?? (o.quick ? 5 : 40);
    const rounds = o.quick ? 1 : (o.rounds ?? ROUNDS);
    const warmSeconds = o.quick ? 1 : 2;
    const runs: ApiserverRun[] = [];
    for (const rate of rates) {
      // rounds of short windows, every webhook (and none) once per round, the order reversed every other round: a
      // drift of the API server's or the machine's speed weighs on every webhook alike
      const windows = new Map<string, Window[]>();
      for (let round = 0; round < rounds; round++) {
        for (const r of round % 2 === 0 ? registrations : [...registrations].reverse()) {
          const label = r?.label ?? 'no webhook';
          await register(client, r, o.certs.ca, body);
          await fire(client, body, rate, warmSeconds);
          const before = await webhookHistograms(client);
          const fired = await fire(client, body, rate, seconds / rounds);
          const after = await webhookHistograms(client);
          const w: Window = { fired, counts: r ? bucketCounts(before, after, r.name) : new Map(), p99Ms: percentile([...fired.latencies].sort((a, b) => a - b), 99) };
          windows.set(label, [...(windows.get(label) ?? []), w]);
          o.log(`apiserver: ${label} at ${rate}/s, round ${round + 1} of ${rounds}: p99 ${w.p99Ms.toFixed(2)} ms, errors ${fired.errors}`);
        }
      }
      for (const r of registrations) {
        const label = r?.label ?? 'no webhook';
        const run = runOf(label, rate, windows.get(label) ?? []);
        runs.push(run);
        o.log(`apiserver: ${run.webhook} at ${rate}/s: p50 ${run.p50Ms.toFixed(2)} ms, p99 ${run.p99Ms.toFixed(2)} ms, <= 5 ms ${((run.bucketShares['0.005'] ?? 0) * 100).toFixed(1)}% of ${run.webhookCalls} calls, errors ${run.errors}`);
      }
    }
    await register(client, undefined, o.certs.ca, body);
    return { kubeApiserver: version.gitVersion ?? 'unknown', seconds, rounds, warmSeconds, rates, runs };
  } finally {
    client.close();
    for (const t of targets) await t.stop();
    await cluster.stop();
    if (o.pinned) execFileSync('taskset', ['-a', '-p', '-c', '0,1', String(process.pid)], { stdio: 'ignore' });
  }
}
