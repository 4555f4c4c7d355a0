// Owner events: when portcullis denies a Pod that a controller creates, the controller only shows FailedCreate.
// This records a Warning Event (events.k8s.io/v1) with the denial message on the top owning workload
// (ReplicaSet -> Deployment, Job -> CronJob). Off the admission hot path: record() only checks and enqueues; a
// bounded queue is drained in the background, at most one event per owner per interval, never for dry-run requests.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { AdmissionRequest } from '../admission/review.js';
import type { Decision } from '../engine/decision.js';
import type { KubeClient } from '../kube/client.js';
import { isStatus } from '../kube/client.js';
import { recordEvent, REPORTING_CONTROLLER } from './event.js';
import { isObject } from '../workload/k8s.js';
import { BoundedMemo } from '../memo.js';

export { REPORTING_CONTROLLER };
export const EVENT_REASON = 'PodDenied';
const MAX_NOTE_BYTES = 1024;

export interface OwnerRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly namespace: string;
}

export interface OwnerEventOptions {
  readonly client: KubeClient;
  readonly logger: Logger;
  /** at most one event per owner in this long (default 60 s) */
  readonly perOwnerIntervalMs?: number;
  /** pending events at most; more are dropped (default 100) */
  readonly queueSize?: number;
  readonly reportingInstance?: string;
  readonly now?: () => number;
}

export interface OwnerEventStats {
  recorded: number;
  rateLimited: number;
  dropped: number;
  failed: number;
}

export interface OwnerEventRecorder {
  /** call after every admission decision; returns at once */
  record(review: AdmissionRequest, decision: Decision): void;
  /** resolves when the queue is empty (tests) */
  idle(): Promise<void>;
  readonly stats: Readonly<OwnerEventStats>;
  close(): Promise<void>;
}

interface Job {
  owner: OwnerRef;
  pod: string;
  message: string;
}

// The controller owner reference of a Pod in an admission request, if any.
export function podControllerOf(review: AdmissionRequest): OwnerRef | undefined {
  const obj = review.object;
  if (!isObject(obj) || !isObject(obj.metadata) || !Array.isArray(obj.metadata.ownerReferences)) return undefined;
  const namespace = review.namespace ?? (typeof obj.metadata.namespace === 'string' ? obj.metadata.namespace : undefined);
  if (!namespace) return undefined;
  for (const ref of obj.metadata.ownerReferences) {
    if (!isObject(ref) || ref.controller !== true) continue;
    if (typeof ref.apiVersion !== 'string' || typeof ref.kind !== 'string' || typeof ref.name !== 'string' || typeof ref.uid !== 'string') continue;
    return { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid, namespace };
  }
  return undefined;
}

function podName(review: AdmissionRequest): string {
  const obj = review.object;
  const meta = isObject(obj) && isObject(obj.metadata) ? obj.metadata : {};
  if (typeof meta.name === 'string' && meta.name) return meta.name;
  return typeof meta.generateName === 'string' ? `${meta.generateName}<generated>` : '(unnamed)';
}

// Cuts text to at most `bytes` UTF-8 bytes, marking the cut.
export function truncateBytes(text: string, bytes: number): string {
  if (Buffer.byteLength(text) <= bytes) return text;
  let out = text.slice(0, bytes);
  while (Buffer.byteLength(`${out}…`) > bytes) out = out.slice(0, -1);
  return `${out}…`;
}

const OWNER_PATHS: Readonly<Record<string, string>> = {
  'apps/v1/ReplicaSet': '/apis/apps/v1/namespaces/{ns}/replicasets/{name}',
  'batch/v1/Job': '/apis/batch/v1/namespaces/{ns}/jobs/{name}',
};

export function createOwnerEventRecorder(options: OwnerEventOptions): OwnerEventRecorder {
  const { client, logger } = options;
  const interval = options.perOwnerIntervalMs ?? 60_000;
  const queueSize = options.queueSize ?? 100;
  const now = options.now ?? Date.now;
  const instance = options.reportingInstance ?? `${process.env.POD_NAME ?? hostname()}`;
  const lastSent = new Map<string, number>();
  const parents = new BoundedMemo<string, OwnerRef | null>(5_000);
  const queue: Job[] = [];
  const stats: OwnerEventStats = { recorded: 0, rateLimited: 0, dropped: 0, failed: 0 };
  let draining: Promise<void> | undefined;
  let closed = false;

  // Whether an owner may get an event now; remembers the send. The map is pruned so it stays bounded.
  const allow = (uid: string): boolean => {
    const t = now();
    const last = lastSent.get(uid);
    if (last !== undefined && t - last < interval) return false;
    lastSent.set(uid, t);
    if (lastSent.size > 10_000) for (const [k, v] of lastSent) if (t - v >= interval) lastSent.delete(k);
    return true;
  };

  // ReplicaSet -> Deployment, Job -> CronJob (one GET, cached); otherwise the owner itself.
  const topOwner = async (owner: OwnerRef): Promise<OwnerRef> => {
    const template = OWNER_PATHS[`${owner.apiVersion}/${owner.kind}`];
    if (!template) return owner;
    let parent = parents.get(owner.uid);
    if (parent === undefined) {
      parent = null;
      try {
        const obj = await client.request<{ metadata?: { ownerReferences?: unknown[] } }>({
          path: template.replace('{ns}', encodeURIComponent(owner.namespace)).replace('{name}', encodeURIComponent(owner.name)),
        });
        for (const ref of obj.metadata?.ownerReferences ?? []) {
          if (isObject(ref) && ref.controller === true && typeof ref.kind === 'string' && typeof ref.name === 'string' && typeof ref.uid === 'string' && typeof ref.apiVersion === 'string') {
            parent = { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid, namespace: owner.namespace };
          }
        }
      } catch (err) {
        if (!isStatus(err, 404)) logger.debug({ err, owner: `${owner.kind}/${owner.name}` }, 'owner look-up failed');
      }
      parents.set(owner.uid, parent);
    }
    return parent ?? owner;
  };

  const send = async (job: Job): Promise<void> => {
    const top = await topOwner(job.owner);
    if (top.uid !== job.owner.uid && !allow(top.uid)) {
      stats.rateLimited++;
      return;
    }
    const via = top.uid === job.owner.uid ? '' : ` via ${job.owner.kind} ${job.owner.name}`;
    const note = truncateBytes(`portcullis denied pod ${job.pod}${via}: ${job.message}`, MAX_NOTE_BYTES);
    await recordEvent(client, { regarding: top, ...(top.uid !== job.owner.uid ? { related: job.owner } : {}), action: 'Admit', reason: EVENT_REASON, note, at: new Date(now()), instance });
    stats.recorded++;
  };

  const drain = async (): Promise<void> => {
    while (queue.length > 0) {
      const job = queue.shift() as Job;
      try {
        await send(job);
      } catch (err) {
        stats.failed++;
        logger.warn({ err, owner: `${job.owner.kind}/${job.owner.name}`, namespace: job.owner.namespace }, 'could not record the owner event');
      }
    }
  };

  // Starts draining on a later turn of the event loop (never inside the admission handler).
  const kick = (): void => {
    if (draining) return;
    draining = new Promise<void>((resolve) => setImmediate(resolve))
      .then(drain)
      .finally(() => {
        draining = undefined;
        if (queue.length > 0 && !closed) kick();
      });
  };

  return {
    stats,
    record(review, decision) {
      if (closed || decision.allowed || review.dryRun) return;
      if (review.kind !== 'Pod' || review.group !== '' || review.operation !== 'CREATE' || review.subresource) return;
      const owner = podControllerOf(review);
      if (!owner) return;
      if (!allow(owner.uid)) {
        stats.rateLimited++;
        return;
      }
      if (queue.length >= queueSize) {
        stats.dropped++;
        return;
      }
      queue.push({ owner, pod: podName(review), message: decision.message ?? 'denied' });
      kick();
    },
    async idle() {
      while (draining) await draining;
    },
    async close() {
      closed = true;
      while (draining) await draining;
    },
  };
}

/** Flags `portcullis serve` adds for owner events (spread into its parseArgs options). */
export const OWNER_EVENT_SERVE_FLAGS = {
  'owner-events': { type: 'boolean', default: false },
} as const;

export const OWNER_EVENT_SERVE_USAGE = `  --owner-events        record a Warning Event on the owning workload when a controller's Pod is denied
                        (API credentials: --kubeconfig, else in-cluster, $KUBECONFIG, ~/.kube/config)`;

// Creates the recorder from `portcullis serve` flags; undefined when --owner-events is not set.
export async function ownerEventsFromFlags(
  values: { 'owner-events'?: boolean; kubeconfig?: string },
  logger: Logger,
): Promise<OwnerEventRecorder | undefined> {
  if (values['owner-events'] !== true) return undefined;
  const { createKubeClient, loadKubeConfig } = await import('../kube/client.js');
  const kubeconfig = values.kubeconfig;
  const client = createKubeClient(await loadKubeConfig(kubeconfig ? { kubeconfig } : {}), { maxSockets: 2 });
  const recorder = createOwnerEventRecorder({ client, logger: logger.child({ component: 'owner-events' }) });
  logger.info('owner events enabled');
  return {
    ...recorder,
    stats: recorder.stats,
    async close() {
      await recorder.close();
      client.close();
    },
  };
}
