// The exceptions portcullis knows: each PolicyException read and checked once per change, the valid ones offered to
// the engine, the invalid ones reported (log line, and an Event through onIgnored). Every use is logged and counted.
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { CUSTOM_POLICY_PREFIX, DEFAULT_MAX_EXCEPTION_MS, readException } from '../engine/exception-spec.js';
import type { ExceptionProblem, PolicyException } from '../engine/exception-spec.js';
import type { ExceptionSource, ExceptionSubject, ExceptionUse } from '../engine/exceptions.js';
import { isObject } from '../workload/k8s.js';

export interface ExceptionStoreOptions {
  readonly logger: Logger;
  readonly policyIds: readonly string[];
  readonly maxDurationMs?: number;
  readonly metrics?: Registry;
  /** the same clock the engine expires exceptions by */
  readonly now?: () => number;
  /** an exception was ignored (the informer records an Event on it) */
  readonly onIgnored?: (obj: unknown, problems: readonly ExceptionProblem[]) => void;
}

export interface ExceptionStore extends ExceptionSource {
  /** reads (or re-reads) one object; the problems when it is ignored */
  upsert(obj: unknown): readonly ExceptionProblem[];
  remove(obj: unknown): void;
  /** the number of valid exceptions, expired ones included */
  readonly size: () => number;
  /** logs each exception that expired since the last sweep (`exception expired`); returns their ids */
  sweep(): string[];
  /** the config's custom policy ids (`custom:<id>` in spec.policies): an exception naming one waits for the first
   * call, and those naming any are read again when the ids change */
  setCustomPolicyIds(ids: readonly string[]): void;
}

function metricOf<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

function keyOf(obj: unknown): string {
  const meta = isObject(obj) && isObject(obj.metadata) ? obj.metadata : {};
  return `${String(meta.namespace ?? '')}/${String(meta.name ?? '')}`;
}

// Whether the object names a custom policy (`custom:<id>`) in spec.policies.
function namesCustom(obj: unknown): boolean {
  const policies = isObject(obj) && isObject(obj.spec) ? obj.spec.policies : undefined;
  return Array.isArray(policies) && policies.some((p) => typeof p === 'string' && p.startsWith(CUSTOM_POLICY_PREFIX));
}

// Creates an empty store.
export function createExceptionStore(options: ExceptionStoreOptions): ExceptionStore {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const maxDurationMs = options.maxDurationMs ?? DEFAULT_MAX_EXCEPTION_MS;
  const valid = new Map<string, PolicyException>();
  let list: readonly PolicyException[] = [];
  const registers = options.metrics ? [options.metrics] : [];
  const uses = options.metrics
    ? metricOf(options.metrics, 'portcullis_exception_uses_total', () => new Counter({ name: 'portcullis_exception_uses_total', help: 'Violations allowed by a PolicyException, by exception and policy', labelNames: ['exception', 'policy'] as const, registers }))
    : undefined;
  const loaded = options.metrics
    ? metricOf(options.metrics, 'portcullis_exceptions', () => new Gauge({ name: 'portcullis_exceptions', help: 'PolicyExceptions read, by state (valid, ignored)', labelNames: ['state'] as const, registers }))
    : undefined;
  const ignored = new Set<string>();
  /** the objects that name custom policies, read again when the custom ids change */
  const customObjects = new Map<string, unknown>();
  let customPolicyIds: readonly string[] | undefined;
  /** ids of exceptions already reported expired (an updated expiry reports again) */
  const expired = new Set<string>();
  const refresh = () => {
    list = [...valid.values()];
    const t = now();
    const stale = list.filter((e) => e.expires <= t).length;
    loaded?.set({ state: 'valid' }, valid.size - stale);
    loaded?.set({ state: 'expired' }, stale);
    loaded?.set({ state: 'ignored' }, ignored.size);
  };
  return {
    current: () => list,
    used(all: readonly ExceptionUse[], subject: ExceptionSubject) {
      for (const u of all) {
        uses?.inc({ exception: u.exception, policy: u.policy });
        logger.info({ exception: u.exception, policy: u.policy, container: u.container, expires: u.expires, namespace: subject.namespace, kind: subject.kind, workload: subject.name }, 'exception used');
      }
    },
    upsert(obj) {
      const key = keyOf(obj);
      if (namesCustom(obj)) customObjects.set(key, obj);
      else customObjects.delete(key);
      if (customPolicyIds === undefined && customObjects.has(key)) {
        // the config is not loaded yet: setCustomPolicyIds() reads it
        valid.delete(key);
        ignored.delete(key);
        refresh();
        return [];
      }
      const reading = readException(obj, { policyIds: options.policyIds, customPolicyIds: customPolicyIds ?? [], maxDurationMs, now: now() });
      if (reading.ok) {
        valid.set(key, reading.exception);
        expired.delete(`${reading.exception.id}@${reading.exception.expires}`);
        ignored.delete(key);
        logger.info({ exception: reading.exception.id, policies: reading.exception.policies, expires: new Date(reading.exception.expires).toISOString() }, 'exception loaded');
        refresh();
        return [];
      }
      valid.delete(key);
      ignored.add(key);
      logger.warn({ exception: reading.id, problems: reading.problems.map((p) => p.message).join('; '), codes: reading.problems.map((p) => p.code).join(',') }, 'exception ignored: it applies nowhere until fixed');
      refresh();
      options.onIgnored?.(obj, reading.problems);
      return reading.problems;
    },
    remove(obj) {
      const key = keyOf(obj);
      customObjects.delete(key);
      const existed = valid.delete(key) || ignored.delete(key);
      if (existed) logger.info({ exception: key }, 'exception removed');
      refresh();
    },
    size: () => valid.size,
    setCustomPolicyIds(ids) {
      if (customPolicyIds?.join() === ids.join()) return;
      customPolicyIds = [...ids];
      for (const obj of [...customObjects.values()]) this.upsert(obj);
    },
    sweep() {
      const t = now();
      const out: string[] = [];
      for (const e of valid.values()) {
        const key = `${e.id}@${e.expires}`;
        if (e.expires > t || expired.has(key)) continue;
        expired.add(key);
        out.push(e.id);
        logger.info({ exception: e.id, expired: new Date(e.expires).toISOString(), policies: e.policies }, 'exception expired: it applies nowhere now');
      }
      if (out.length > 0) refresh();
      return out;
    },
  };
}
