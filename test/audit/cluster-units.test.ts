// Scan folding, PolicyReports (build and sync), the scan Lease and owner events against an in-memory API.
import { POLICIES } from '../../policies/index.js';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { parseConfig } from '../../src/config/load.js';
import { DEFAULT_CONFIG_YAML } from '../../src/config/defaults.js';
import { createEngine } from '../../src/engine/evaluate.js';
import { scanCluster } from '../../src/audit/scan.js';
import { buildPolicyReports, MANAGED_BY, TRUNCATED_ANNOTATION } from '../../src/audit/reports.js';
import type { PolicyReport } from '../../src/audit/reports.js';
import { syncPolicyReports } from '../../src/audit/report-sync.js';
import { claimScanSlot, LAST_SCAN_ANNOTATION } from '../../src/audit/lease.js';
import { recordViolations } from '../../src/audit/background.js';
import { createOwnerEventRecorder, truncateBytes } from '../../src/events/owner-events.js';
import type { AdmissionRequest } from '../../src/admission/review.js';
import type { Decision } from '../../src/engine/decision.js';
import { Gauge } from 'prom-client';
import { clusterFixture } from './cluster-fixture.js';
import { progressBar } from '../../src/audit/progress.js';
import { fakeCluster } from './fake-cluster.js';

const config = parseConfig(DEFAULT_CONFIG_YAML, 'default');
const engine = createEngine({ config: () => config });
const now = new Date('2026-03-04T05:06:07.000Z');
const quiet = pino({ level: 'silent' });

describe('scan', () => {
  it('reports each workload once on its top controller, with its pods counted, over paginated lists', async () => {
    const client = clusterFixture();
    const report = await scanCluster({ client, engine, config: () => config, pageSize: 2 });
    const byName = Object.fromEntries(report.results.map((r) => [`${r.kind}/${r.name}`, r.pods]));
    expect(byName).toEqual({
      'Pod/coredns-1': 1,
      'ReplicaSet/rollout-1': 2,
      'VirtualMachineInstance/vm': 2,
      'CronJob/nightly': 1,
      'Deployment/api': 1,
      'Deployment/web': 3,
      'Pod/debug': 1,
    });
    expect(report.stats.pods).toBe(11);
    expect(client.log.filter((l) => l.includes('/pods')).length).toBe(6); // 11 pods, 2 per page
    expect(client.log.some((l) => l.includes('continue='))).toBe(true);
    expect(report.stats.calls.GET).toBe(client.log.length);
  });

  it('draws a progress bar only on a terminal', async () => {
    const written: string[] = [];
    const tty = { isTTY: true, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    const bar = progressBar(tty);
    await scanCluster({ client: clusterFixture(), engine, config: () => config, pageSize: 4, onProgress: (p) => bar.update(p) });
    bar.done();
    expect(written.some((w) => /\[#+\.*\] \d+\/11 pods/.test(w))).toBe(true);
    const pipe: string[] = [];
    const quietBar = progressBar({ isTTY: false, write: (s: string) => pipe.push(s) } as unknown as NodeJS.WriteStream);
    quietBar.update({ kind: 'Pod', listed: 1, pods: 1, evaluated: 1 });
    expect(pipe).toEqual([]);
  });

  it('scans only the given namespaces', async () => {
    const client = clusterFixture();
    const report = await scanCluster({ client, engine, config: () => config, namespaces: ['payments'] });
    expect(new Set(report.results.map((r) => r.namespace))).toEqual(new Set(['payments']));
    expect(client.log.every((l) => l.includes('/namespaces/payments/'))).toBe(true);
  });
});

describe('policy reports', () => {
  it('one report per namespace: fail, warn and pass results with summary counts; skipped namespaces have none', async () => {
    const report = await scanCluster({ client: clusterFixture(), engine, config: () => config });
    const built = buildPolicyReports(report.results, { now, policies: POLICIES });
    expect([...built.namespaced.keys()].sort()).toEqual(['payments', 'shop']);
    expect(built.cluster).toBeUndefined();
    const shop = built.namespaced.get('shop') as PolicyReport;
    expect(shop.metadata).toMatchObject({ name: 'portcullis', namespace: 'shop', labels: MANAGED_BY });
    expect(shop.summary).toEqual({ pass: 60, fail: 4, warn: 0, error: 0, skip: 0 });
    const fail = shop.results.find((r) => r.result === 'fail' && r.resources[0]?.name === 'web' && r.policy === 'require-non-root-user');
    expect(fail).toMatchObject({
      source: 'portcullis',
      rule: 'require-non-root-user',
      severity: 'high',
      resources: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'shop', uid: 'd-web' }],
      timestamp: { seconds: now.getTime() / 1000, nanos: 0 },
      properties: { pods: '3', containers: 'sidecar' },
    });
    expect(shop.results[0]?.result).toBe('fail'); // failures first
  });

  it('bounds the size: fail results are kept first, the summary still counts everything', async () => {
    const report = await scanCluster({ client: clusterFixture(), engine, config: () => config });
    const shop = buildPolicyReports(report.results, { now, maxResults: 5, policies: POLICIES }).namespaced.get('shop') as PolicyReport;
    expect(shop.results).toHaveLength(5);
    expect(shop.results.slice(0, 4).every((r) => r.result === 'fail')).toBe(true);
    expect(shop.metadata.annotations?.[TRUNCATED_ANNOTATION]).toBe('59');
    expect(shop.summary.pass + shop.summary.fail).toBe(64);
  });

  it('sync: creates, leaves unchanged reports alone, updates in place, and deletes reports of emptied namespaces', async () => {
    const cluster = clusterFixture();
    const reports = fakeCluster({ '/apis/wgpolicyk8s.io/v1alpha2/policyreports': [], '/apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports': [] });
    const scan = async () => buildPolicyReports((await scanCluster({ client: cluster, engine, config: () => config })).results, { now: new Date(), policies: POLICIES });
    expect(await syncPolicyReports(reports, await scan())).toEqual({ created: 2, updated: 0, unchanged: 0, deleted: 0 });
    expect(await syncPolicyReports(reports, await scan())).toEqual({ created: 0, updated: 0, unchanged: 2, deleted: 0 });
    // fix the standalone root pod in shop; remove everything in payments
    const pods = cluster.store.get('/api/v1/pods') ?? [];
    cluster.store.set('/api/v1/pods', pods.filter((p) => p.metadata.name !== 'debug' && p.metadata.namespace !== 'payments'));
    cluster.store.set('/apis/apps/v1/replicasets', (cluster.store.get('/apis/apps/v1/replicasets') ?? []).filter((p) => p.metadata.namespace !== 'payments'));
    expect(await syncPolicyReports(reports, await scan())).toEqual({ created: 0, updated: 1, unchanged: 0, deleted: 1 });
    const stored = reports.store.get('/apis/wgpolicyk8s.io/v1alpha2/policyreports') ?? [];
    expect(stored.map((r) => r.metadata.namespace)).toEqual(['shop']);
    const results = (stored[0] as unknown as PolicyReport).results;
    expect(results.some((r) => r.resources[0]?.name === 'debug')).toBe(false);
  });

  it('sync: a missing CRD is a clear error', async () => {
    const reports = fakeCluster({});
    const built = buildPolicyReports([], { now, policies: POLICIES });
    await expect(syncPolicyReports(reports, built)).rejects.toMatchObject({ code: 'POLICY_REPORT_CRD_MISSING' });
  });
});

describe('audit metrics', () => {
  it('portcullis_audit_violations{policy,namespace,action} from the last scan', async () => {
    const registry = new Registry();
    const gauge = new Gauge({ name: 'portcullis_audit_violations', help: 'x', labelNames: ['policy', 'namespace', 'action'] as const, registers: [registry] });
    const report = await scanCluster({ client: clusterFixture(), engine, config: () => config });
    recordViolations(gauge, report, config);
    const text = await registry.metrics();
    expect(text).toContain('portcullis_audit_violations{policy="require-non-root-user",namespace="shop",action="deny"} 2');
    expect(text).toContain('portcullis_audit_violations{policy="require-non-root-user",namespace="payments",action="deny"} 1');
    recordViolations(gauge, { ...report, results: [] }, config);
    expect(await registry.metrics()).not.toContain('namespace="shop"');
  });
});

describe('scan lease', () => {
  const lease = (identity: string) => ({ namespace: 'portcullis', name: 'portcullis-audit', identity, leaseDurationSeconds: 30 });

  it('one replica wins each interval; the other follows only after the holder stops renewing', async () => {
    const api = fakeCluster({ '/apis/coordination.k8s.io/v1/leases': [] });
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const at = (s: number) => new Date(t0 + s * 1000);
    const interval = 60_000;
    expect(await claimScanSlot(api, lease('a'), interval, at(0))).toEqual({ leader: true, scan: true });
    expect(await claimScanSlot(api, lease('b'), interval, at(1))).toEqual({ leader: false, scan: false });
    expect(await claimScanSlot(api, lease('a'), interval, at(10))).toEqual({ leader: true, scan: false });
    expect(await claimScanSlot(api, lease('a'), interval, at(60))).toEqual({ leader: true, scan: true });
    // a stops renewing at 60 s: b takes over once the lease expired (30 s) and scans when the interval is due
    expect(await claimScanSlot(api, lease('b'), interval, at(80))).toEqual({ leader: false, scan: false });
    expect(await claimScanSlot(api, lease('b'), interval, at(95))).toEqual({ leader: true, scan: false });
    expect(await claimScanSlot(api, lease('b'), interval, at(120))).toEqual({ leader: true, scan: true });
    const stored = api.store.get('/apis/coordination.k8s.io/v1/leases')?.[0] as unknown as { metadata: { annotations: Record<string, string> }; spec: { holderIdentity: string; renewTime: string } };
    expect(stored.spec.holderIdentity).toBe('b');
    expect(stored.spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(stored.metadata.annotations[LAST_SCAN_ANNOTATION]).toBe('2026-01-01T00:02:00.000000Z');
  });

  it('two replicas racing for the same slot: exactly one wins', async () => {
    const api = fakeCluster({ '/apis/coordination.k8s.io/v1/leases': [] });
    await claimScanSlot(api, lease('a'), 60_000, new Date(0));
    const later = new Date(200_000); // expired and due
    const results = await Promise.all([claimScanSlot(api, lease('a'), 60_000, later), claimScanSlot(api, lease('b'), 60_000, later)]);
    expect(results.filter((r) => r.scan)).toHaveLength(1);
  });
});

describe('owner events', () => {
  const denied: Decision = { allowed: false, violations: [], message: '[require-non-root-user] container "app" (containers[0]): runs as root — fix it', warnings: [], auditAnnotations: {} };
  const review = (ownerUid: string, extra: Partial<AdmissionRequest> = {}): AdmissionRequest => ({
    apiVersion: 'admission.k8s.io/v1',
    uid: 'u',
    group: '',
    version: 'v1',
    kind: 'Pod',
    resource: 'pods',
    namespace: 'shop',
    operation: 'CREATE',
    dryRun: false,
    object: { metadata: { generateName: 'web-1-', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: ownerUid, controller: true }] } },
    ...extra,
  });

  it('records one event on the top owner (ReplicaSet -> Deployment), rate-limited per owner, none for dry-run or allowed pods', async () => {
    const api = fakeCluster({
      '/apis/apps/v1/replicasets': [{ metadata: { name: 'web-1', namespace: 'shop', uid: 'rs-1', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-web', controller: true }] } }],
      '/apis/events.k8s.io/v1/events': [],
    });
    let t = 0;
    const recorder = createOwnerEventRecorder({ client: api, logger: quiet, now: () => t });
    recorder.record(review('rs-1', { dryRun: true }), denied);
    recorder.record(review('rs-1'), { ...denied, allowed: true });
    recorder.record(review('rs-1', { kind: 'Deployment', group: 'apps' }), denied);
    for (let i = 0; i < 50; i++) recorder.record(review('rs-1'), denied);
    await recorder.idle();
    t = 61_000;
    recorder.record(review('rs-1'), denied);
    await recorder.idle();
    const events = api.store.get('/apis/events.k8s.io/v1/events') as unknown as Array<Record<string, unknown>>;
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      reason: 'PodDenied',
      type: 'Warning',
      reportingController: 'portcullis.dev/admission-webhook',
      regarding: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'shop', uid: 'd-web' },
      related: { kind: 'ReplicaSet', name: 'web-1' },
    });
    expect(events[0]?.note).toContain('runs as root');
    expect(recorder.stats).toMatchObject({ recorded: 2, rateLimited: 49, dropped: 0 });
    expect(api.log.filter((l) => l.startsWith('GET')).length).toBe(1); // the owner look-up is cached
  });

  it('the queue is bounded; record() returns before any API call', async () => {
    const api = fakeCluster({ '/apis/events.k8s.io/v1/events': [] });
    const recorder = createOwnerEventRecorder({ client: api, logger: quiet, queueSize: 3 });
    for (let i = 0; i < 10; i++) recorder.record({ ...review(`x-${i}`), object: { metadata: { name: `p${i}`, ownerReferences: [{ apiVersion: 'v1', kind: 'ReplicationController', name: `rc${i}`, uid: `x-${i}`, controller: true }] } } }, denied);
    expect(api.log).toHaveLength(0);
    await recorder.idle();
    expect(recorder.stats).toMatchObject({ recorded: 3, dropped: 7 });
  });

  it('notes are cut to 1 kB', () => {
    const cut = truncateBytes('—'.repeat(600), 1024);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(1024);
    expect(cut.endsWith('…')).toBe(true);
  });
});
