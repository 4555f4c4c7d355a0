// One scan per interval across replicas: a coordination.k8s.io/v1 Lease names the replica that scans, and its
// annotation records when the last scan started. Every write carries the resourceVersion it read, so two replicas
// can never both win the same slot.
import { isStatus, KubeApiError } from '../kube/client.js';
import type { KubeClient } from '../kube/client.js';

export const LAST_SCAN_ANNOTATION = 'portcullis.dev/last-scan';

export interface LeaseOptions {
  readonly namespace: string;
  readonly name: string;
  /** this replica's name, unique among replicas */
  readonly identity: string;
  /** how long a holder that stops renewing keeps the lease */
  readonly leaseDurationSeconds: number;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

/** RFC 3339 with microseconds, as metav1.MicroTime expects. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export interface SlotDecision {
  /** this replica holds the lease */
  readonly leader: boolean;
  /** this replica should scan now (it holds the lease and the interval has passed since the last scan) */
  readonly scan: boolean;
}

function path(o: LeaseOptions, withName: boolean): string {
  const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(o.namespace)}/leases`;
  return withName ? `${base}/${encodeURIComponent(o.name)}` : base;
}

// Takes or renews the lease and claims the scan slot when it is due; a lost race answers {leader: false}.
export async function claimScanSlot(client: KubeClient, o: LeaseOptions, intervalMs: number, now: Date): Promise<SlotDecision> {
  let lease: Lease | undefined;
  try {
    lease = await client.request<Lease>({ path: path(o, true) });
  } catch (err) {
    if (!isStatus(err, 404)) throw err;
  }
  const stamp = microTime(now);
  if (!lease) {
    const created: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: o.name, namespace: o.namespace, annotations: { [LAST_SCAN_ANNOTATION]: stamp }, labels: { 'app.kubernetes.io/managed-by': 'portcullis' } },
      spec: { holderIdentity: o.identity, leaseDurationSeconds: o.leaseDurationSeconds, acquireTime: stamp, renewTime: stamp, leaseTransitions: 0 },
    };
    try {
      await client.request({ method: 'POST', path: path(o, false), body: created });
      return { leader: true, scan: true };
    } catch (err) {
      if (isStatus(err, 409)) return { leader: false, scan: false };
      throw err;
    }
  }
  const spec = lease.spec ?? {};
  const renewed = spec.renewTime ? Date.parse(spec.renewTime) : 0;
  const expired = renewed + (spec.leaseDurationSeconds ?? o.leaseDurationSeconds) * 1000 < now.getTime();
  const mine = spec.holderIdentity === o.identity;
  if (!mine && spec.holderIdentity && !expired) return { leader: false, scan: false };
  const last = Date.parse(lease.metadata.annotations?.[LAST_SCAN_ANNOTATION] ?? '');
  const due = !Number.isFinite(last) || now.getTime() - last >= intervalMs;
  const next: Lease = {
    ...lease,
    metadata: {
      ...lease.metadata,
      annotations: { ...(lease.metadata.annotations ?? {}), ...(due ? { [LAST_SCAN_ANNOTATION]: stamp } : {}) },
    },
    spec: {
      ...spec,
      holderIdentity: o.identity,
      leaseDurationSeconds: o.leaseDurationSeconds,
      renewTime: stamp,
      ...(mine ? {} : { acquireTime: stamp, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
    },
  };
  try {
    await client.request({ method: 'PUT', path: path(o, true), body: next });
    return { leader: true, scan: due };
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 409) return { leader: false, scan: false };
    throw err;
  }
}

// Gives the lease up (on shutdown) so another replica takes over without waiting for it to expire.
export async function releaseLease(client: KubeClient, o: LeaseOptions): Promise<void> {
  try {
    const lease = await client.request<Lease>({ path: path(o, true) });
    if (lease.spec?.holderIdentity !== o.identity) return;
    const { holderIdentity: _h, ...spec } = lease.spec;
    await client.request({ method: 'PUT', path: path(o, true), body: { ...lease, spec: { ...spec, leaseDurationSeconds: 1 } } });
  } catch {
    // best effort: the lease expires by itself
  }
}
