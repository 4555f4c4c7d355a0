// prom-client metrics of the image client, registered on the Registry the caller passes (never the global one).

import { Counter, type Registry } from 'prom-client';
import { SlotCounter, SlotHistogram, type CounterSlot } from '../metric-slots.js';

export interface ImageMetrics {
  request(registry: string, status: number | 'error'): void;
  cache(cache: 'facts' | 'failure' | 'inflight' | 'tag' | 'manifest', hit: boolean): void;
  lookup(result: 'ok' | 'error', seconds: number): void;
}

const MAX_REGISTRY_LABELS = 64;

/** Latency buckets of registry look-ups and signature verifications, 0.5 ms to 10 s. */
export const LOOKUP_BUCKETS = [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

// Returns a metric already registered under the name (a source rebuilt on config reload), or registers a new one.
export function getOrCreate<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

// A label mapper that keeps the first `max` distinct values and counts every later one as "other".
export function boundedLabel(max: number): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    if (seen.has(value)) return value;
    if (seen.size >= max) return 'other';
    seen.add(value);
    return value;
  };
}

export function createImageMetrics(registry?: Registry): ImageMetrics {
  if (!registry) return { request() {}, cache() {}, lookup() {} };
  const requests = getOrCreate(registry, 'portcullis_registry_requests_total', () =>
    new Counter({ name: 'portcullis_registry_requests_total', help: 'HTTP requests to image registries, by registry and status', labelNames: ['registry', 'status'] as const, registers: [registry] }),
  );
  const hits = getOrCreate(registry, 'portcullis_registry_cache_hits_total', () =>
    new SlotCounter({ name: 'portcullis_registry_cache_hits_total', help: 'image look-ups answered from a cache (facts, failure, tag, manifest) or joined to one in flight', labelNames: ['cache'], registry }),
  );
  const misses = getOrCreate(registry, 'portcullis_registry_cache_misses_total', () =>
    new SlotCounter({ name: 'portcullis_registry_cache_misses_total', help: 'image look-ups not answered from a cache', labelNames: ['cache'], registry }),
  );
  const latency = getOrCreate(registry, 'portcullis_image_lookup_duration_seconds', () =>
    new SlotHistogram({ name: 'portcullis_image_lookup_duration_seconds', help: 'image facts look-up latency, by result', labelNames: ['result'], buckets: LOOKUP_BUCKETS, registry }),
  );
  // every label set of the look-up path made once (updated several times per container of a review)
  const caches = ['facts', 'failure', 'inflight', 'tag', 'manifest'] as const;
  const hit = Object.fromEntries(caches.map((cache) => [cache, hits.slot({ cache })])) as Record<(typeof caches)[number], CounterSlot>;
  const miss = Object.fromEntries(caches.map((cache) => [cache, misses.slot({ cache })])) as Record<(typeof caches)[number], CounterSlot>;
  const lookups = { ok: latency.slot({ result: 'ok' }), error: latency.slot({ result: 'error' }) };
  // keeps the registry label bounded: pod specs name arbitrary registries
  const label = boundedLabel(MAX_REGISTRY_LABELS);
  return {
    request: (r, status) => requests.inc({ registry: label(r), status: String(status) }),
    cache: (cache, isHit) => (isHit ? hit : miss)[cache].inc(),
    lookup: (result, seconds) => lookups[result].observe(seconds),
  };
}
