// `portcullis serve` with the background audit and owner events, as deployed: two server processes against a real
// API server. Skipped until serve has the flags (src/cli/serve.ts wiring); PORTCULLIS_CLI points at another build.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clusterClient, waitForServiceAccount } from '../e2e/cluster.js';
import type { ClusterClient, ClusterInfo } from '../e2e/cluster.js';
import { httpsGet } from '../e2e/http.js';
import { freePort, startProcess, waitFor } from '../e2e/proc.js';
import type { ManagedProcess } from '../e2e/proc.js';
import { CLI_PATH, REPO_ROOT } from '../e2e/portcullis.js';
import { INSTALL, requireTool } from '../helpers/require-tool.js';

const cli = process.env.PORTCULLIS_CLI ?? CLI_PATH;
// undefined outside the e2e run (the unit run's include also matches *.e2e.test.ts): everything here is skipped
const provided = inject('cluster') as ClusterInfo | undefined;
const help = provided && existsSync(cli) ? spawnSync(process.execPath, [cli, 'serve', '--help'], { encoding: 'utf8' }).stdout : '';
const wired = requireTool('the e2e control plane', provided !== undefined, INSTALL.cluster) && requireTool('portcullis serve --audit-interval and --owner-events (the built CLI)', help.includes('--audit-interval') && help.includes('--owner-events'), 'npm run build');
const cluster = provided ? clusterClient(provided) : (undefined as unknown as ClusterClient);
const NS = 'serve-audit-e2e';
const LEASE = `portcullis-audit-serve-${process.pid}`;

const CONFIG = `apiVersion: portcullis.dev/v1alpha1
kind: PortcullisConfig
mode: enforce
registry: { enabled: false }
exclude:
  namespaces: [kube-system]
`;
const rootCtx = { runAsUser: 0, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };
const deployment = (name: string, replicas: number) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { automountServiceAccountToken: false, containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10', securityContext: rootCtx }] } } },
  });

interface Server {
  name: string;
  url: string;
  ca: string;
  logPath: string;
  proc: ManagedProcess;
  lines(): Array<Record<string, unknown>>;
}

let dir: string;
const servers: Server[] = [];

async function startServer(name: string): Promise<Server> {
  const sdir = join(dir, name);
  mkdirSync(sdir, { recursive: true });
  const port = await freePort();
  const configPath = join(sdir, 'config.yaml');
  writeFileSync(configPath, CONFIG);
  const logPath = join(sdir, 'server.log');
  const args = [cli, 'serve', '--host', '127.0.0.1', '--port', String(port), '--cert-dir', join(sdir, 'certs'), '--tls-san', '127.0.0.1', '--config', configPath,
    '--kubeconfig', cluster.kubeconfig, '--audit-interval', '0.05', '--audit-reports', '--report-api', 'wgpolicyk8s', '--audit-lease-namespace', 'default', '--audit-lease-name', LEASE, '--owner-events'];
  const proc = startProcess(`portcullis-${name}`, process.execPath, args, { logPath, cwd: REPO_ROOT, env: { ...process.env, POD_NAME: name } });
  const url = `https://127.0.0.1:${port}`;
  const ca = await waitFor(`${name} /readyz`, async () => {
    const caPath = join(sdir, 'certs', 'ca.crt');
    if (!existsSync(caPath)) return undefined;
    const pem = readFileSync(caPath, 'utf8');
    const res = await httpsGet(`${url}/readyz`, { ca: pem }).catch(() => undefined);
    return res?.status === 200 ? pem : undefined;
  }, { timeoutMs: 60_000, intervalMs: 250 });
  const lines = () => readFileSync(logPath, 'utf8').split('\n').flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
  return { name, url, ca, logPath, proc, lines };
}

beforeAll(async () => {
  if (!wired) return;
  dir = mkdtempSync(join(tmpdir(), 'portcullis-serve-audit-'));
  await cluster.kubectl(['apply', '-f', join(REPO_ROOT, 'deploy', 'crds')]);
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { 'portcullis-serve-e2e': 'yes' } } }) });
  await waitForServiceAccount(cluster, NS);
  servers.push(await startServer('one'), await startServer('two'));
});

afterAll(async () => {
  if (!wired) return;
  for (const s of servers) await s.proc.stop();
  await cluster.kubectl(['delete', 'validatingwebhookconfiguration', 'portcullis-serve-e2e', '--ignore-not-found']);
  await cluster.kubectl(['delete', 'namespace', NS, '--wait=false', '--ignore-not-found']);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.runIf(wired)('portcullis serve: background audit and owner events', () => {
  it('two servers, one scan per interval: only the Lease holder scans, writes reports and exports the gauge', async () => {
    const scans = () => servers.flatMap((s) => s.lines().filter((l) => l.msg === 'background audit scan finished').map((l) => ({ who: s.name, time: Date.parse(String(l.slot)) })));
    await waitFor('three background scans', async () => (scans().length >= 3 ? true : undefined), { timeoutMs: 90_000, intervalMs: 500 });
    const done = scans().sort((a, b) => a.time - b.time);
    expect(new Set(done.map((s) => s.who)).size).toBe(1);
    for (let i = 1; i < done.length; i++) expect((done[i]?.time ?? 0) - (done[i - 1]?.time ?? 0)).toBeGreaterThanOrEqual(3_000); // --audit-interval 0.05 minutes
    const leader = servers.find((s) => s.name === done[0]?.who) as Server;
    const metrics = await httpsGet(`${leader.url}/metrics`, { ca: leader.ca });
    expect(metrics.body).toContain('portcullis_audit_leader 1');
    expect(metrics.body).toContain('portcullis_audit_scans_total{result="ok"}');
    const other = servers.find((s) => s !== leader) as Server;
    expect((await httpsGet(`${other.url}/metrics`, { ca: other.ca })).body).toContain('portcullis_audit_leader 0');
  });

  it('denied pods of a Deployment: one PodDenied event on the Deployment; the background audit reports it', async () => {
    const target = servers[0] as Server;
    const hook = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'portcullis-serve-e2e' },
      webhooks: [{
        name: 'serve-e2e.portcullis.dev',
        admissionReviewVersions: ['v1'],
        sideEffects: 'NoneOnDryRun',
        failurePolicy: 'Fail',
        clientConfig: { url: `${target.url}/validate`, caBundle: Buffer.from(target.ca).toString('base64') },
        namespaceSelector: { matchLabels: { 'portcullis-serve-e2e': 'yes' } },
        rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' }],
      }],
    };
    expect((await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(hook) })).code).toBe(0);
    await waitFor('the webhook in effect', async () => {
      const r = await cluster.kubectl(['run', 'probe', '-n', NS, '--image=registry.k8s.io/pause:3.10', '--dry-run=server']);
      return r.code !== 0 && r.stderr.includes('serve-e2e.portcullis.dev') ? true : undefined;
    }, { timeoutMs: 30_000, intervalMs: 500 });
    expect((await cluster.kubectl(['apply', '-f', '-'], { input: deployment('denied', 2) })).code).toBe(0);
    const note = await waitFor('the PodDenied event', async () => {
      const r = await cluster.kubectl(['get', 'events.events.k8s.io', '-n', NS, '--field-selector', 'reason=PodDenied,regarding.kind=Deployment,regarding.name=denied', '-o', 'json']);
      const items = (JSON.parse(r.stdout || '{"items":[]}') as { items: Array<{ note: string }> }).items;
      return items.length > 0 ? items : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    expect(note).toHaveLength(1);
    expect(note[0]?.note).toContain('[require-non-root-user]');
    const report = await waitFor('the PolicyReport', async () => {
      const r = await cluster.kubectl(['get', 'policyreport', 'portcullis', '-n', NS, '-o', 'json']);
      if (r.code !== 0) return undefined;
      const rep = JSON.parse(r.stdout) as { results: Array<{ result: string; resources: Array<{ name: string }> }> };
      return rep.results.some((x) => x.result === 'fail' && x.resources[0]?.name === 'denied') ? rep : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    expect(report).toBeDefined();
  });
});
