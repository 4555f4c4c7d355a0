// Writes PolicyReports to the cluster: created or replaced in place, unchanged ones left alone, and reports of
// namespaces that no longer have results deleted.
import { isStatus, KubeApiError } from '../kube/client.js';
import type { KubeClient } from '../kube/client.js';
import type { BuiltReports, PolicyReport } from './reports.js';
import { CLUSTER_REPORT_NAME, MANAGED_BY, REPORT_API_VERSION, sameContent } from './reports.js';

export class ReportCrdMissingError extends Error {
  readonly code = 'POLICY_REPORT_CRD_MISSING' as const;
  constructor() {
    super('PolicyReport CRDs: expected wgpolicyk8s.io/v1alpha2 policyreports and clusterpolicyreports, got none: apply deploy/crds/ (or enable the chart\'s CRDs)');
  }
}

export interface SyncStats {
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
}

export interface SyncOptions {
  /** the scan covered only these namespaces: reports elsewhere are left alone (default: all) */
  readonly namespaces?: readonly string[];
}

const BASE = `/apis/${REPORT_API_VERSION}`;
const SELECTOR = Object.entries(MANAGED_BY).map(([k, v]) => `${k}=${v}`).join(',');

interface Existing {
  metadata: { name: string; namespace?: string; resourceVersion?: string; annotations?: Record<string, string> };
  summary: PolicyReport['summary'];
  results?: PolicyReport['results'];
}

function itemPath(report: { metadata: { name: string; namespace?: string } }): string {
  const { name, namespace } = report.metadata;
  return namespace ? `${BASE}/namespaces/${encodeURIComponent(namespace)}/policyreports/${encodeURIComponent(name)}` : `${BASE}/clusterpolicyreports/${encodeURIComponent(name)}`;
}

async function listManaged(client: KubeClient, plural: string, namespace?: string): Promise<Existing[]> {
  const out: Existing[] = [];
  let token: string | undefined;
  const path = namespace ? `${BASE}/namespaces/${encodeURIComponent(namespace)}/${plural}` : `${BASE}/${plural}`;
  do {
    let res: { items?: Existing[]; metadata?: { continue?: string } };
    try {
      res = await client.request({ path, query: { labelSelector: SELECTOR, limit: 500, continue: token } });
    } catch (err) {
      if (isStatus(err, 404)) throw new ReportCrdMissingError();
      throw err;
    }
    out.push(...(res.items ?? []));
    token = res.metadata?.continue || undefined;
  } while (token);
  return out;
}

// Creates or replaces one report; a conflict (someone else wrote it) is retried once with a fresh resourceVersion.
async function upsert(client: KubeClient, report: PolicyReport, existing: Existing | undefined, stats: SyncStats): Promise<void> {
  if (existing && sameContent(report, existing)) {
    stats.unchanged++;
    return;
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      if (!existing) {
        const collection = itemPath(report).replace(/\/[^/]+$/, '');
        await client.request({ method: 'POST', path: collection, body: report });
        stats.created++;
      } else {
        const body = { ...report, metadata: { ...report.metadata, resourceVersion: existing.metadata.resourceVersion } };
        await client.request({ method: 'PUT', path: itemPath(report), body });
        stats.updated++;
      }
      return;
    } catch (err) {
      if (!(err instanceof KubeApiError) || (err.status !== 409 && err.status !== 404)) throw err;
      // 409: created meanwhile or changed meanwhile; 404: deleted meanwhile
      existing = await client.request<Existing>({ path: itemPath(report) }).catch((e: unknown) => {
        if (isStatus(e, 404)) return undefined;
        throw e;
      });
    }
  }
  throw new Error(`policy report ${report.metadata.namespace ?? ''}/${report.metadata.name}: expected to write it, got repeated conflicts`);
}

// Makes the cluster's portcullis reports match `built`.
export async function syncPolicyReports(client: KubeClient, built: BuiltReports, options: SyncOptions = {}): Promise<SyncStats> {
  const stats: SyncStats = { created: 0, updated: 0, unchanged: 0, deleted: 0 };
  const scoped = options.namespaces?.length ? options.namespaces : undefined;
  const existing = scoped
    ? (await Promise.all(scoped.map((ns) => listManaged(client, 'policyreports', ns)))).flat()
    : await listManaged(client, 'policyreports');
  const byNs = new Map(existing.map((e) => [e.metadata.namespace ?? '', e]));
  for (const [ns, report] of built.namespaced) {
    if (scoped && !scoped.includes(ns)) continue;
    const current = byNs.get(ns);
    await upsert(client, report, current?.metadata.name === report.metadata.name ? current : undefined, stats);
  }
  for (const e of existing) {
    const ns = e.metadata.namespace ?? '';
    if (built.namespaced.get(ns)?.metadata.name === e.metadata.name) continue;
    await client.request({ method: 'DELETE', path: itemPath(e) }).catch((err: unknown) => {
      if (!isStatus(err, 404)) throw err;
    });
    stats.deleted++;
  }
  if (!scoped) {
    const clusterExisting = (await listManaged(client, 'clusterpolicyreports')).find((e) => e.metadata.name === CLUSTER_REPORT_NAME);
    if (built.cluster) await upsert(client, built.cluster, clusterExisting, stats);
    else if (clusterExisting) {
      await client.request({ method: 'DELETE', path: itemPath(clusterExisting) }).catch((err: unknown) => {
        if (!isStatus(err, 404)) throw err;
      });
      stats.deleted++;
    }
  }
  return stats;
}
