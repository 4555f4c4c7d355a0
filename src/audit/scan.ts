// The cluster scan: every pod and pod controller, each evaluated once on its top controller with its pods counted.
import type { Config } from '../config/types.js';
import type { Engine } from '../engine/evaluate.js';
import type { Decision } from '../engine/decision.js';
import { groupOf } from '../workload/podspecs.js';
import type { JsonObject } from '../workload/k8s.js';
import type { KubeClient } from '../kube/client.js';
import { controllerOf, listPages, metaOf, WORKLOAD_KINDS } from './inventory.js';
import type { ObjectRef } from './inventory.js';
import { checkedPolicies } from './subject.js';
import type { AuditSubject } from './subject.js';

export interface ScanResult extends AuditSubject {
  readonly namespace?: string;
  readonly uid: string;
  /** pods found for this workload (a standalone Pod counts itself) */
  readonly pods: number;
  /** for pods whose controller is not a built-in pod controller (e.g. a custom resource): the pod that was evaluated */
  readonly evaluatedPod?: string;
}

export interface ScanProgress {
  readonly kind: string;
  /** objects listed so far, all kinds */
  readonly listed: number;
  /** pods listed so far, and the total the API server announced (when known) */
  readonly pods: number;
  readonly podsTotal?: number;
  readonly evaluated: number;
}

export interface ScanStats {
  readonly startedAt: string;
  readonly durationMs: number;
  /** objects listed, by kind */
  readonly listed: Readonly<Record<string, number>>;
  readonly workloads: number;
  readonly pods: number;
  /** API calls made by this scan, by verb */
  readonly calls: Readonly<Record<string, number>>;
}

export interface ScanReport {
  readonly results: ScanResult[];
  readonly stats: ScanStats;
}

export interface ScanOptions {
  readonly client: KubeClient;
  readonly engine: Engine;
  readonly config: () => Config;
  /** scan only these namespaces (default: all) */
  readonly namespaces?: readonly string[];
  /** list page size (default 500) */
  readonly pageSize?: number;
  /** evaluations in flight at most (default 8) */
  readonly concurrency?: number;
  /** time each evaluation may spend on image facts (default 30 s) */
  readonly evaluationTimeoutMs?: number;
  readonly onProgress?: (p: ScanProgress) => void;
  readonly now?: () => Date;
}

interface Entry {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  uid: string;
  pods: number;
  evaluatedPod?: string;
  decision?: Decision;
  policies: readonly string[];
}

const KIND_ORDER = new Map(WORKLOAD_KINDS.map((k, i) => [k.kind, i]));

// Runs the scan; throws KubeApiError when a list fails (RBAC, API server down).
export async function scanCluster(options: ScanOptions): Promise<ScanReport> {
  const now = options.now ?? (() => new Date());
  const started = now();
  const t0 = performance.now();
  const callsBefore = { ...options.client.calls };
  const pageSize = options.pageSize ?? 500;
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const timeout = options.evaluationTimeoutMs ?? 30_000;
  const config = options.config();
  const entries = new Map<string, Entry>();
  /** object uid -> uid of the entry it is reported on */
  const topOf = new Map<string, string>();
  const listed: Record<string, number> = {};
  const inflight = new Set<Promise<void>>();
  let evaluated = 0;
  let listedTotal = 0;
  let pods = 0;
  let podsTotal: number | undefined;

  const evaluate = async (entry: Entry, obj: JsonObject, kind: string): Promise<void> => {
    const group = groupOf(typeof obj.apiVersion === 'string' ? obj.apiVersion : '');
    entry.decision = await options.engine.evaluate(
      { group, kind, operation: 'CREATE', object: obj, ...(entry.namespace ? { namespace: entry.namespace } : {}) },
      { deadline: Date.now() + timeout },
    );
    entry.policies = entry.decision.skipped ? [] : checkedPolicies(config, obj, group, kind);
    evaluated++;
  };
  let failure: unknown;
  const schedule = async (entry: Entry, obj: JsonObject, kind: string): Promise<void> => {
    while (inflight.size >= concurrency) await Promise.race(inflight);
    if (failure !== undefined) throw failure;
    const p: Promise<void> = evaluate(entry, obj, kind)
      .catch((err: unknown) => {
        failure ??= err;
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };

  const namespaces: Array<string | undefined> = options.namespaces?.length ? [...options.namespaces] : [undefined];
  for (const k of WORKLOAD_KINDS) {
    for (const ns of namespaces) {
      for await (const page of listPages(options.client, k, ns, pageSize)) {
        if (k.kind === 'Pod' && podsTotal === undefined) podsTotal = page.remaining !== undefined ? pods + page.items.length + page.remaining : undefined;
        for (const obj of page.items) {
          listed[k.kind] = (listed[k.kind] ?? 0) + 1;
          listedTotal++;
          const meta = metaOf(obj);
          const owner: ObjectRef | undefined = controllerOf(obj, meta.namespace);
          const isPod = k.kind === 'Pod';
          if (isPod) pods++;
          const top = owner ? topOf.get(owner.uid) : undefined;
          if (top !== undefined) {
            topOf.set(meta.uid, top);
            const entry = entries.get(top);
            if (entry && isPod) entry.pods++;
            continue;
          }
          if (isPod && owner) {
            // owned by a controller portcullis does not list (a custom resource): report once on that owner
            const existing = entries.get(owner.uid);
            if (existing) {
              existing.pods++;
              continue;
            }
            const entry: Entry = { ...owner, pods: 1, evaluatedPod: meta.name, policies: [] };
            entries.set(owner.uid, entry);
            await schedule(entry, obj, 'Pod');
            continue;
          }
          const entry: Entry = {
            apiVersion: String(obj.apiVersion),
            kind: k.kind,
            ...(meta.namespace ? { namespace: meta.namespace } : {}),
            name: meta.name,
            uid: meta.uid,
            pods: isPod ? 1 : 0,
            policies: [],
          };
          entries.set(meta.uid, entry);
          topOf.set(meta.uid, meta.uid);
          await schedule(entry, obj, k.kind);
        }
        options.onProgress?.({ kind: k.kind, listed: listedTotal, pods, ...(podsTotal !== undefined ? { podsTotal } : {}), evaluated });
      }
    }
  }
  await Promise.all(inflight);
  if (failure !== undefined) throw failure;
  options.onProgress?.({ kind: 'done', listed: listedTotal, pods, ...(podsTotal !== undefined ? { podsTotal } : {}), evaluated });

  const results: ScanResult[] = [...entries.values()]
    .map((e) => ({
      apiVersion: e.apiVersion,
      kind: e.kind,
      ...(e.namespace ? { namespace: e.namespace } : {}),
      name: e.name,
      uid: e.uid,
      pods: e.pods,
      ...(e.evaluatedPod ? { evaluatedPod: e.evaluatedPod } : {}),
      decision: e.decision as Decision,
      policies: e.policies,
    }))
    .sort(
      (a, b) =>
        (a.namespace ?? '').localeCompare(b.namespace ?? '') ||
        (KIND_ORDER.get(a.kind) ?? 99) - (KIND_ORDER.get(b.kind) ?? 99) ||
        a.kind.localeCompare(b.kind) ||
        a.name.localeCompare(b.name),
    );
  const calls: Record<string, number> = {};
  for (const [verb, n] of Object.entries(options.client.calls)) {
    const d = n - (callsBefore[verb] ?? 0);
    if (d > 0) calls[verb] = d;
  }
  return {
    results,
    stats: {
      startedAt: started.toISOString(),
      durationMs: Math.round(performance.now() - t0),
      listed,
      workloads: results.length,
      pods,
      calls,
    },
  };
}
