// Reports and exceptions: covered results become skip (naming the exception and its expiry), and fail again after
// expiry; both report APIs (OpenReports and wg-policy) are built and synced, and `auto` discovers which is served.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { DEFAULT_CONFIG_YAML } from '../../src/config/defaults.js';
import { createEngine } from '../../src/engine/evaluate.js';
import { readException } from '../../src/engine/exception-spec.js';
import type { PolicyException } from '../../src/engine/exception-spec.js';
import { POLICIES, POLICY_IDS } from '../../policies/index.js';
import { scanCluster } from '../../src/audit/scan.js';
import { buildPolicyReports } from '../../src/audit/reports.js';
import type { PolicyReport } from '../../src/audit/reports.js';
import { syncPolicyReports } from '../../src/audit/report-sync.js';
import { OPENREPORTS, resolveReportApi, WGPOLICY } from '../../src/audit/report-api.js';
import type { KubeClient } from '../../src/kube/client.js';
import { createExceptionStore } from '../../src/exceptions/store.js';
import { clusterFixture } from './cluster-fixture.js';
import { fakeCluster } from './fake-cluster.js';

const config = parseConfig(DEFAULT_CONFIG_YAML, 'default');
const NOW = Date.parse('2026-03-04T05:06:07.000Z');
const DAY = 86_400_000;

function exception(): PolicyException {
  const r = readException(
    {
      apiVersion: 'portcullis.dev/v1alpha1',
      kind: 'PolicyException',
      metadata: { name: 'web-sidecar', namespace: 'portcullis' },
      spec: { policies: ['require-non-root-user'], match: { namespaces: ['shop'], kinds: ['Deployment'], names: ['web'] }, containers: ['sidecar'], reason: 'vendor sidecar', expires: new Date(NOW + 3 * DAY).toISOString() },
    },
    { policyIds: POLICY_IDS, maxDurationMs: 90 * DAY, now: NOW },
  );
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.exception;
}

async function webResult(clock: { now: number }, api = WGPOLICY) {
  const engine = createEngine({ config: () => config, exceptions: { current: () => [exception()] }, now: () => clock.now });
  const report = await scanCluster({ client: clusterFixture(), engine, config: () => config });
  const shop = buildPolicyReports(report.results, { now: new Date(clock.now), policies: POLICIES, api }).namespaced.get('shop') as PolicyReport;
  return { shop, result: shop.results.find((r) => r.resources[0]?.name === 'web' && r.policy === 'require-non-root-user') };
}

describe('reports with exceptions', () => {
  it('a covered result is skip with the exception, its expiry and reason; after expiry it is fail again', async () => {
    const clock = { now: NOW };
    const before = await webResult(clock);
    expect(before.result).toMatchObject({ result: 'skip', properties: { exception: 'portcullis/web-sidecar', expires: new Date(NOW + 3 * DAY).toISOString(), reason: 'vendor sidecar' } });
    expect(before.shop.summary.skip).toBe(1);
    clock.now = NOW + 3 * DAY;
    const after = await webResult(clock);
    expect(after.result?.result).toBe('fail');
    expect(after.shop.summary.skip).toBe(0);
  });

  it('builds OpenReports Report objects with the same results', async () => {
    const { shop, result } = await webResult({ now: NOW }, OPENREPORTS);
    expect(shop).toMatchObject({ apiVersion: 'openreports.io/v1alpha1', kind: 'Report' });
    expect(result?.result).toBe('skip');
  });

  it('syncs OpenReports reports under openreports.io/v1alpha1', async () => {
    const reports = fakeCluster({ '/apis/openreports.io/v1alpha1/reports': [], '/apis/openreports.io/v1alpha1/clusterreports': [] });
    const engine = createEngine({ config: () => config });
    const built = buildPolicyReports((await scanCluster({ client: clusterFixture(), engine, config: () => config })).results, { now: new Date(NOW), policies: POLICIES, api: OPENREPORTS });
    expect(await syncPolicyReports(reports, built)).toEqual({ created: 2, updated: 0, unchanged: 0, deleted: 0 });
    expect((reports.store.get('/apis/openreports.io/v1alpha1/reports') ?? []).map((r) => r.kind)).toEqual(['Report', 'Report']);
    await expect(syncPolicyReports(fakeCluster({}), built)).rejects.toMatchObject({ code: 'POLICY_REPORT_CRD_MISSING' });
  });

  it('auto picks OpenReports when the cluster serves it, else wg-policy, else a clear error', async () => {
    const served = (...groups: Array<[string, string]>): KubeClient => ({
      request: async <T>() => ({ groups: groups.map(([name, version]) => ({ name, versions: [{ version }] })) }) as T,
      calls: {},
      namespace: 'default',
      close: () => undefined,
    });
    expect(await resolveReportApi(served(['wgpolicyk8s.io', 'v1alpha2'], ['openreports.io', 'v1alpha1']), 'auto')).toBe(OPENREPORTS);
    expect(await resolveReportApi(served(['wgpolicyk8s.io', 'v1alpha2'], ['openreports.io', 'v1beta1']), 'auto')).toBe(WGPOLICY);
    await expect(resolveReportApi(served(['apps', 'v1']), 'auto')).rejects.toMatchObject({ code: 'POLICY_REPORT_CRD_MISSING' });
    expect(await resolveReportApi(served(), 'wgpolicyk8s')).toBe(WGPOLICY);
  });

  it('the store logs and counts each use by exception and policy, and says when one expired', async () => {
    const lines: string[] = [];
    const { Registry } = await import('prom-client');
    const registry = new Registry();
    const clock = { now: NOW };
    const store = createExceptionStore({ logger: pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }), policyIds: POLICY_IDS, metrics: registry, now: () => clock.now });
    store.upsert({ apiVersion: 'portcullis.dev/v1alpha1', kind: 'PolicyException', metadata: { name: 'web-sidecar', namespace: 'portcullis' }, spec: { policies: ['require-non-root-user'], match: { namespaces: ['shop'], names: ['web'] }, reason: 'r', expires: new Date(NOW + DAY).toISOString() } });
    const engine = createEngine({ config: () => config, exceptions: store, now: () => clock.now });
    await scanCluster({ client: clusterFixture(), engine, config: () => config });
    expect(await registry.getSingleMetricAsString('portcullis_exception_uses_total')).toContain('portcullis_exception_uses_total{exception="portcullis/web-sidecar",policy="require-non-root-user"} 1');
    expect(lines.some((l) => l.includes('"msg":"exception used"') && l.includes('"workload":"web"'))).toBe(true);
    expect(store.sweep()).toEqual([]);
    clock.now = NOW + DAY;
    expect(store.sweep()).toEqual(['portcullis/web-sidecar']);
    expect(store.sweep()).toEqual([]);
    expect(lines.some((l) => l.includes('"msg":"exception expired: it applies nowhere now"'))).toBe(true);
    expect(await registry.getSingleMetricAsString('portcullis_exceptions')).toContain('portcullis_exceptions{state="expired"} 1');
    store.remove({ metadata: { name: 'web-sidecar', namespace: 'portcullis' } });
    expect(store.current()).toEqual([]);
  });
});
