// Scale check, not in the default runs (PORTCULLIS_SCAN_SCALE=1 to run it): 5,000 Pending pods in 100 namespaces,
// then `portcullis scan` as a user runs it; prints its time, API calls and peak memory (GNU time's max RSS).
//   PORTCULLIS_SCAN_SCALE=1 npx vitest run --config vitest.e2e.config.ts test/audit/scan-scale.e2e.test.ts
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, inject, it } from 'vitest';
import { clusterClient } from '../e2e/cluster.js';
import type { ClusterClient, ClusterInfo } from '../e2e/cluster.js';
import { run, waitFor } from '../e2e/proc.js';
import { CLI_PATH, REPO_ROOT } from '../e2e/portcullis.js';
import { createKubeClient, loadKubeConfig } from '../../src/kube/client.js';

const NAMESPACES = Number(process.env.PORTCULLIS_SCAN_NAMESPACES ?? 100);
const PODS_PER_NAMESPACE = Number(process.env.PORTCULLIS_SCAN_PODS_PER_NAMESPACE ?? 50);
const CREATE_CONCURRENCY = 32;
// undefined outside the e2e run (the unit run's include also matches *.e2e.test.ts): everything here is skipped
const provided = inject('cluster') as ClusterInfo | undefined;
const cluster = provided ? clusterClient(provided) : (undefined as unknown as ClusterClient);
const names = Array.from({ length: NAMESPACES }, (_, i) => `scale-${String(i).padStart(3, '0')}`);
let dir: string | undefined;

// Runs `fn` over items with at most `limit` in flight.
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++] as T);
  }));
}

afterAll(async () => {
  if (process.env.PORTCULLIS_SCAN_SCALE !== '1' || !provided) return;
  await cluster.kubectl(['delete', 'namespace', ...names, '--wait=false', '--ignore-not-found']);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it.runIf(process.env.PORTCULLIS_SCAN_SCALE === '1' && provided)(`scans ${NAMESPACES * PODS_PER_NAMESPACE} pods in ${NAMESPACES} namespaces`, async () => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-scan-scale-'));
  const client = createKubeClient(await loadKubeConfig({ kubeconfig: cluster.kubeconfig }), { maxSockets: CREATE_CONCURRENCY });
  const t0 = performance.now();
  await pool(names, 16, async (ns) => {
    await client.request({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'portcullis.dev/mode': 'exempt' } } } }).catch((err: { status?: number }) => {
      if (err.status !== 409) throw err;
    });
  });
  // pods need each namespace's default ServiceAccount (made by kube-controller-manager)
  await waitFor('default service accounts', async () => {
    const res = await client.request<{ items: unknown[] }>({ path: '/api/v1/serviceaccounts', query: { fieldSelector: 'metadata.name=default', labelSelector: '' } });
    const have = new Set((res.items as Array<{ metadata: { namespace: string } }>).map((s) => s.metadata.namespace));
    return names.every((n) => have.has(n)) ? true : undefined;
  }, { timeoutMs: 120_000, intervalMs: 500 });
  const pods = names.flatMap((ns) => Array.from({ length: PODS_PER_NAMESPACE }, (_, i) => ({ ns, i })));
  await pool(pods, CREATE_CONCURRENCY, async ({ ns, i }) => {
    const root = i % 2 === 0;
    const body = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `pod-${i}`, namespace: ns, labels: { app: `app-${i % 5}` } },
      spec: {
        automountServiceAccountToken: false,
        containers: [{
          name: 'app',
          image: root ? 'registry.k8s.io/pause' : 'registry.k8s.io/pause:3.10',
          securityContext: { runAsUser: root ? 0 : 1000, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        }],
      },
    };
    await client.request({ method: 'POST', path: `/api/v1/namespaces/${ns}/pods`, body }).catch((err: { status?: number }) => {
      if (err.status !== 409) throw err;
    });
  });
  const createSeconds = (performance.now() - t0) / 1000;
  client.close();

  const config = join(dir, 'config.yaml');
  writeFileSync(config, 'apiVersion: portcullis.dev/v1alpha1\nkind: PortcullisConfig\nregistry: { enabled: false }\n');
  const out: Record<string, unknown> = { namespaces: NAMESPACES, pods: pods.length, createSeconds: Math.round(createSeconds * 10) / 10 };
  for (const pageSize of [500, 100]) {
    const r = await run('/usr/bin/time', ['-f', 'PEAK_RSS_KB=%M WALL=%e', process.execPath, CLI_PATH, 'scan', '--kubeconfig', cluster.kubeconfig, '--config', config, '--offline', '--no-progress', '--page-size', String(pageSize), '-o', 'json'], { cwd: REPO_ROOT, timeoutMs: 600_000 });
    expect(r.code, r.stderr).toBe(1);
    const doc = JSON.parse(r.stdout) as { summary: { pods: number; workloads: number; denied: number }; stats: { durationMs: number; calls: Record<string, number>; listed: Record<string, number> } };
    const scannedPods = Object.entries(doc.stats.listed).find(([k]) => k === 'Pod')?.[1] ?? 0;
    expect(scannedPods).toBeGreaterThanOrEqual(pods.length);
    expect(doc.summary.denied).toBeGreaterThanOrEqual(pods.length / 2);
    const peak = Number(/PEAK_RSS_KB=(\d+)/.exec(r.stderr)?.[1] ?? 0);
    const wall = Number(/WALL=([\d.]+)/.exec(r.stderr)?.[1] ?? 0);
    out[`pageSize${pageSize}`] = {
      scanMs: doc.stats.durationMs,
      processWallSeconds: wall,
      apiCalls: doc.stats.calls,
      peakRssMiB: Math.round(peak / 1024),
      podsListed: scannedPods,
      workloads: doc.summary.workloads,
      denied: doc.summary.denied,
    };
  }
  console.log(`[scan scale] ${JSON.stringify(out, null, 2)}`);
  if (process.env.PORTCULLIS_SCAN_SCALE_OUT) writeFileSync(process.env.PORTCULLIS_SCAN_SCALE_OUT, `${JSON.stringify(out, null, 2)}\n`);
}, 900_000);
