// Writes policy reports (OpenReports or wg-policy, as built) to the cluster: created or replaced in place, unchanged ones left alone, and reports of
// namespaces that no longer have results deleted.
import { isStatus, KubeApiError } from '../kube/client.js';
import type { KubeClient } from '../kube/client.js';
import type { BuiltReports, PolicyReport } from './reports.js';
import { CLUSTER_REPORT_NAME, MANAGED_BY, sameContent } from './reports.js';
import { ReportCrdMissingError } from './report-api.js';
import type { ReportApi } from './report-api.js';

export { ReportCrdMissingError };

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

const SELECTOR = Object.entries(MANAGED_BY).map(([k, v]) => `${k}=${v}`).join(',');

interface Existing {
  metadata: { name: string; namespace?: string; resourceVersion?: string; annotations?: Record<string, string> };
  summary: PolicyReport['summary'];
  results?: PolicyReport['results'];
}

function itemPath(api: ReportApi, report: { metadata: { name: string; namespace?: string } }): string {
  const { name, namespace } = report.metadata;
  const base = `/apis/${api.apiVersion}`;
  return namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${api.plural}/${encodeURIComponent(name)}` : `${base}/${api.clusterPlural}/${encodeURIComponent(name)}`;
}

async function listManaged(client: KubeClient, api: ReportApi, cluster: boolean, namespace?: string): Promise<Existing[]> {
  const out: Existing[] = [];
  let token: string | undefined;
  const base = `/apis/${api.apiVersion}`;
  const plural = cluster ? api.clusterPlural : api.plural;
  const path = namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${plural}` : `${base}/${plural}`;
  do {
    let res: { items?: Existing[]; metadata?: { continue?: string } };
    try {
      res = await client.request({ path, query: { labelSelector: SELECTOR, limit: 500, continue: token } });
    } catch (err) {
      if (isStatus(err, 404)) throw new ReportCrdMissingError(`${api.apiVersion} ${api.plural} and ${api.clusterPlural}`);
      throw err;
    }
    out.push(...(res.items ?? []));
    token = res.metadata?.continue || undefined;
  } while (token);
  return out;
}

// Creates or replaces one report; a conflict (someone else wrote it) is retried once with a fresh resourceVersion.
async function upsert(client: KubeClient, api: ReportApi, report: PolicyReport, existing: Existing | undefined, stats: SyncStats): Promise<void> {
  if (existing && sameContent(report, existing)) {
    stats.unchanged++;
    return;
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      if (!existing) {
        const collection = itemPath(api, report).replace(/\/[^/]+$/, '');
        await client.request({ method: 'POST', path: collection, body: report });
        stats.created++;
      } else {
        const body = { ...report, metadata: { ...report.metadata, resourceVersion: existing.metadata.resourceVersion } };
        await client.request({ method: 'PUT', path: itemPath(api, report), body });
        stats.updated++;
      }
      return;
    } catch (err) {
      if (!(err instanceof KubeApiError) || (err.status !== 409 && err.status !== 404)) throw err;
      // 409: created meanwhile or changed meanwhile; 404: deleted meanwhile
      existing = await client.request<Existing>({ path: itemPath(api, report) }).catch((e: unknown) => {
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
  const { api } = built;
  const scoped = options.namespaces?.length ? options.namespaces : undefined;
  const existing = scoped
    ? (await Promise.all(scoped.map((ns) => listManaged(client, api, false, ns)))).flat()
    : await listManaged(client, api, false);
  const byNs = new Map(existing.map((e) => [e.metadata.namespace ?? '', e]));
  for (const [ns, report] of built.namespaced) {
    if (scoped && !scoped.includes(ns)) continue;
    const current = byNs.get(ns);
    await upsert(client, api, report, current?.metadata.name === report.metadata.name ? current : undefined, stats);
  }
  for (const e of existing) {
    const ns = e.metadata.namespace ?? '';
    if (built.namespaced.get(ns)?.metadata.name === e.metadata.name) continue;
    await client.request({ method: 'DELETE', path: itemPath(api, e) }).catch((err: unknown) => {
      if (!isStatus(err, 404)) throw err;
    });
    stats.deleted++;
  }
  if (!scoped) {
    const clusterExisting = (await listManaged(client, api, true)).find((e) => e.metadata.name === CLUSTER_REPORT_NAME);
    if (built.cluster) await upsert(client, api, built.cluster, clusterExisting, stats);
    else if (clusterExisting) {
      await client.request({ method: 'DELETE', path: itemPath(api, clusterExisting) }).catch((err: unknown) => {
        if (!isStatus(err, 404)) throw err;
      });
      stats.deleted++;
    }
  }
  return stats;
}
