// Lists pods and pod controllers page by page (limit/continue), top controllers first, so each object's owner is
// already known when it arrives.
import type { JsonObject } from '../workload/k8s.js';
import { isObject } from '../workload/k8s.js';
import type { KubeClient } from '../kube/client.js';

export interface WorkloadKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
}

/** Listed in this order: owners before what they own (CronJob before Job, Deployment before ReplicaSet, all before Pod). */
export const WORKLOAD_KINDS: readonly WorkloadKind[] = [
  { group: 'batch', version: 'v1', kind: 'CronJob', plural: 'cronjobs' },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments' },
  { group: 'apps', version: 'v1', kind: 'StatefulSet', plural: 'statefulsets' },
  { group: 'apps', version: 'v1', kind: 'DaemonSet', plural: 'daemonsets' },
  { group: '', version: 'v1', kind: 'ReplicationController', plural: 'replicationcontrollers' },
  { group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs' },
  { group: 'apps', version: 'v1', kind: 'ReplicaSet', plural: 'replicasets' },
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods' },
];

export function apiVersionOf(k: Pick<WorkloadKind, 'group' | 'version'>): string {
  return k.group ? `${k.group}/${k.version}` : k.version;
}

// The collection path, across namespaces or in one.
export function collectionPath(k: WorkloadKind, namespace?: string): string {
  const prefix = k.group ? `/apis/${k.group}/${k.version}` : `/api/${k.version}`;
  return namespace ? `${prefix}/namespaces/${encodeURIComponent(namespace)}/${k.plural}` : `${prefix}/${k.plural}`;
}

export interface Page {
  readonly items: JsonObject[];
  /** items left after this page, when the API server says */
  readonly remaining?: number;
}

interface ListResponse {
  items?: unknown[];
  metadata?: { continue?: string; remainingItemCount?: number };
}

// Yields every object of a kind, one page at a time; items get their apiVersion and kind back.
export async function* listPages(client: KubeClient, k: WorkloadKind, namespace: string | undefined, limit: number): AsyncGenerator<Page> {
  let token: string | undefined;
  do {
    const res = await client.request<ListResponse>({ path: collectionPath(k, namespace), query: { limit, continue: token } });
    const items = (res.items ?? []).filter(isObject).map((item) => ({ apiVersion: apiVersionOf(k), kind: k.kind, ...item }));
    token = res.metadata?.continue || undefined;
    yield { items, ...(res.metadata?.remainingItemCount !== undefined ? { remaining: res.metadata.remainingItemCount } : {}) };
  } while (token);
}

export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly uid: string;
}

export function metaOf(obj: JsonObject): { name: string; namespace?: string; uid: string; ownerReferences: unknown[] } {
  const m = isObject(obj.metadata) ? obj.metadata : {};
  return {
    name: typeof m.name === 'string' ? m.name : '',
    ...(typeof m.namespace === 'string' ? { namespace: m.namespace } : {}),
    uid: typeof m.uid === 'string' ? m.uid : '',
    ownerReferences: Array.isArray(m.ownerReferences) ? m.ownerReferences : [],
  };
}

// The controller owner reference of an object (controller: true), if any.
export function controllerOf(obj: JsonObject, namespace: string | undefined): ObjectRef | undefined {
  for (const ref of metaOf(obj).ownerReferences) {
    if (!isObject(ref) || ref.controller !== true) continue;
    if (typeof ref.kind !== 'string' || typeof ref.name !== 'string' || typeof ref.uid !== 'string') continue;
    return {
      apiVersion: typeof ref.apiVersion === 'string' ? ref.apiVersion : '',
      kind: ref.kind,
      ...(namespace ? { namespace } : {}),
      name: ref.name,
      uid: ref.uid,
    };
  }
  return undefined;
}
