// An in-memory stand-in for the Kubernetes API's list calls (limit/continue) and a few writes, for unit tests.
import type { KubeClient, KubeRequest } from '../../src/kube/client.js';
import { KubeApiError } from '../../src/kube/client.js';

type Obj = Record<string, unknown> & { metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; [k: string]: unknown } };

export interface FakeCluster extends KubeClient {
  /** objects by collection path without namespace, e.g. /apis/apps/v1/deployments */
  readonly store: Map<string, Obj[]>;
  readonly log: string[];
}

let uidCounter = 0;
export function withUid<T extends Obj>(o: T): T {
  return { ...o, metadata: { uid: `uid-${++uidCounter}`, ...o.metadata } };
}

// Splits ".../namespaces/NS/plural[/name]" into its parts.
function parse(path: string): { collection: string; namespace?: string; name?: string } {
  const m = /^(\/apis?\/(?:[^/]+\/)?v[^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?$/.exec(path);
  if (!m) throw new Error(`fake cluster: unexpected path ${path}`);
  return { collection: `${m[1]}/${m[3]}`, ...(m[2] ? { namespace: decodeURIComponent(m[2]) } : {}), ...(m[4] ? { name: decodeURIComponent(m[4]) } : {}) };
}

export function fakeCluster(objects: Record<string, Obj[]>): FakeCluster {
  const store = new Map(Object.entries(objects).map(([k, v]) => [k, v.map(withUid)]));
  const calls: Record<string, number> = {};
  const log: string[] = [];
  let rv = 1;
  return {
    store,
    log,
    calls,
    namespace: 'default',
    close: () => undefined,
    async request<T>(req: KubeRequest): Promise<T> {
      const method = req.method ?? 'GET';
      calls[method] = (calls[method] ?? 0) + 1;
      log.push(`${method} ${req.path}${req.query?.continue ? ` continue=${req.query.continue}` : ''}`);
      const { collection, namespace, name } = parse(req.path);
      if (!store.has(collection)) throw new KubeApiError(method, req.path, 404, 'NotFound', 'the server could not find the requested resource');
      const items = store.get(collection) ?? [];
      const inNs = items.filter((o) => !namespace || o.metadata.namespace === namespace);
      if (method === 'GET' && !name) {
        const selector = typeof req.query?.labelSelector === 'string' ? req.query.labelSelector.split(',').map((kv) => kv.split('=')) : [];
        const matching = inNs.filter((o) => selector.every(([k, v]) => (o.metadata.labels as Record<string, string> | undefined)?.[k as string] === v));
        const limit = Number(req.query?.limit ?? 0) || matching.length;
        const start = Number(req.query?.continue ?? 0);
        const page = matching.slice(start, start + limit);
        const next = start + limit < matching.length ? String(start + limit) : undefined;
        return { items: structuredClone(page), metadata: { ...(next ? { continue: next, remainingItemCount: matching.length - start - limit } : {}) } } as T;
      }
      const found = inNs.find((o) => o.metadata.name === name);
      if (method === 'GET') {
        if (!found) throw new KubeApiError(method, req.path, 404, 'NotFound', 'not found');
        return structuredClone(found) as T;
      }
      if (method === 'POST') {
        const body = structuredClone(req.body) as Obj;
        if (inNs.some((o) => o.metadata.name === body.metadata.name)) throw new KubeApiError(method, req.path, 409, 'AlreadyExists', 'exists');
        body.metadata.resourceVersion = String(++rv);
        body.metadata.namespace ??= namespace;
        store.set(collection, [...items, withUid(body)]);
        return body as T;
      }
      if (!found) throw new KubeApiError(method, req.path, 404, 'NotFound', 'not found');
      if (method === 'PUT') {
        const body = structuredClone(req.body) as Obj;
        if (body.metadata.resourceVersion !== found.metadata.resourceVersion) throw new KubeApiError(method, req.path, 409, 'Conflict', 'conflict');
        body.metadata = { ...body.metadata, uid: found.metadata.uid, resourceVersion: String(++rv) };
        store.set(collection, items.map((o) => (o === found ? body : o)));
        return body as T;
      }
      if (method === 'DELETE') {
        store.set(collection, items.filter((o) => o !== found));
        return {} as T;
      }
      throw new Error(`fake cluster: unexpected ${method}`);
    },
  };
}
