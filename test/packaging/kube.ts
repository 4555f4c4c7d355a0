// e2e helpers: the control plane's API over HTTPS, ServiceAccount kubeconfigs, and portcullis processes in self mode.
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { parse, stringify } from 'yaml';
import type { ClusterClient, ClusterInfo } from '../e2e/cluster.js';
import { freePort, startProcess, waitFor } from '../e2e/proc.js';
import type { ManagedProcess } from '../e2e/proc.js';
import { CLI } from './helm.js';

interface Kubeconfig {
  clusters: Array<{ cluster: { server: string; 'certificate-authority-data': string } }>;
  users: Array<{ user: { 'client-certificate-data'?: string; 'client-key-data'?: string; token?: string } }>;
}

export interface Tls {
  ca?: string;
  rejectUnauthorized?: boolean;
  cert?: string;
  key?: string;
}

// The admin credentials of the e2e kubeconfig, for direct HTTPS calls.
export function adminTls(info: ClusterInfo): Tls {
  const kc = parse(readFileSync(info.kubeconfig, 'utf8')) as Kubeconfig;
  const b = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');
  return { ca: b(kc.clusters[0]?.cluster['certificate-authority-data']), cert: b(kc.users[0]?.user['client-certificate-data']), key: b(kc.users[0]?.user['client-key-data']) };
}

export interface Response {
  status: number;
  body: string;
  /** the server certificate presented */
  peer?: X509Certificate;
}

// One HTTPS request on a fresh connection (no session reuse: every request verifies the certificate again).
export function httpsRequest(url: string, tls: Tls, opts: { method?: string; body?: string; servername?: string } = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: opts.method ?? 'GET',
        ...tls,
        agent: false,
        timeout: 10_000,
        ...(opts.servername ? { servername: opts.servername } : {}),
        headers: opts.body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(opts.body) } : {},
      },
      (res) => {
        const raw = (res.socket as TLSSocket).getPeerX509Certificate?.();
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ...(raw ? { peer: raw } : {}) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`expected a response from ${url} within 10s, got none`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

// The caBundle (PEM) of every webhook in a ValidatingWebhookConfiguration, read from the API server.
export async function webhookBundles(info: ClusterInfo, name: string): Promise<string[]> {
  const res = await httpsRequest(`${info.server}/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${name}`, adminTls(info));
  if (res.status !== 200) throw new Error(`expected 200 reading webhook configuration ${name}, got ${res.status}: ${res.body}`);
  const vwc = JSON.parse(res.body) as { webhooks?: Array<{ clientConfig: { caBundle?: string } }> };
  return (vwc.webhooks ?? []).map((w) => Buffer.from(w.clientConfig.caBundle ?? '', 'base64').toString('utf8'));
}

// A kubeconfig that authenticates as a ServiceAccount (TokenRequest), to prove the chart's RBAC is enough.
export async function serviceAccountKubeconfig(client: ClusterClient, namespace: string, sa: string, file: string): Promise<string> {
  const res = await client.kubectl(['create', 'token', sa, '-n', namespace, '--duration', '1h']);
  if (res.code !== 0) throw new Error(`expected a token for ${namespace}/${sa}, got: ${res.stderr}`);
  const admin = parse(readFileSync(client.kubeconfig, 'utf8')) as Kubeconfig;
  const cluster = admin.clusters[0]!.cluster;
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'e2e', cluster }],
      users: [{ name: sa, user: { token: res.stdout.trim() } }],
      contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: sa, namespace } }],
      'current-context': 'e2e',
    }),
    { mode: 0o600 },
  );
  return file;
}

export interface Serve {
  port: number;
  url: string;
  process: ManagedProcess;
  log(): string;
  stop(): Promise<void>;
}

// Starts `portcullis serve` with these flags on 127.0.0.1 and waits until /healthz answers over TLS.
export async function startServe(dir: string, name: string, flags: string[], env: NodeJS.ProcessEnv = {}): Promise<Serve> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const logPath = join(dir, `${name}.log`);
  const proc = startProcess(name, process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', String(port), ...flags], { logPath, env: { ...process.env, ...env } });
  const url = `https://127.0.0.1:${port}`;
  await waitFor(
    `${name} /healthz`,
    async () => {
      if (proc.hasExited()) throw new Error(`${name} exited:\n${proc.tail()}`);
      const res = await httpsRequest(`${url}/healthz`, { rejectUnauthorized: false }).catch(() => undefined);
      return res ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  ).catch(async (err: unknown) => {
    await proc.stop();
    throw new Error(`${(err as Error).message}\n${name} log:\n${proc.tail(20)}`);
  });
  return { port, url, process: proc, log: () => readFileSync(logPath, 'utf8'), stop: () => proc.stop() };
}

// True when `cert` was issued by one of the CAs in the PEM bundle.
export function issuedByBundle(cert: X509Certificate, bundle: string): boolean {
  const pems = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return pems.some((pem) => {
    const ca = new X509Certificate(pem);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  });
}

export function countCerts(bundle: string): number {
  return (bundle.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length;
}

export function admissionReview(uid: string, namespace = 'default'): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      name: 'p',
      namespace,
      operation: 'CREATE',
      userInfo: { username: 'e2e' },
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p', namespace },
        spec: {
          securityContext: { runAsNonRoot: true, runAsUser: 65532 },
          containers: [
            {
              name: 'app',
              image: 'registry.example/app:1.0.0',
              securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
      dryRun: false,
    },
  });
}
