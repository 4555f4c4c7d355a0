// prom-client metrics of signature (and attestation) verification, registered on the Registry the caller passes.

import type { Registry } from 'prom-client';
import { SlotCounter, SlotHistogram, type CounterSlot, type HistogramSlot } from '../metric-slots.js';
import { getOrCreate, LOOKUP_BUCKETS } from '../images/metrics.js';

export type VerificationResult = 'verified' | 'unverified' | 'error' | 'unavailable';
const RESULTS: readonly VerificationResult[] = ['verified', 'unverified', 'error', 'unavailable'];
type Cache = 'outcome' | 'tag' | 'inflight';
const CACHES: readonly Cache[] = ['outcome', 'tag', 'inflight'];

export interface SignatureMetrics {
  result(result: VerificationResult, seconds: number): void;
  cache(cache: Cache, hit: boolean): void;
}

export function createSignatureMetrics(registry?: Registry, kind: 'signature' | 'attestation' = 'signature'): SignatureMetrics {
  if (!registry) return { result() {}, cache() {} };
  const results = getOrCreate(registry, `portcullis_${kind}_verifications_total`, () =>
    new SlotCounter({ name: `portcullis_${kind}_verifications_total`, help: `image ${kind} verifications, by result`, labelNames: ['result'], registry }),
  );
  const latency = getOrCreate(registry, `portcullis_${kind}_verification_duration_seconds`, () =>
    new SlotHistogram({ name: `portcullis_${kind}_verification_duration_seconds`, help: `image ${kind} verification latency (registry discovery and cryptography), by result`, labelNames: ['result'], buckets: LOOKUP_BUCKETS, registry }),
  );
  const caches = getOrCreate(registry, `portcullis_${kind}_cache_lookups_total`, () =>
    new SlotCounter({ name: `portcullis_${kind}_cache_lookups_total`, help: `${kind} cache look-ups (outcome by digest and authority, tag, in-flight), by hit`, labelNames: ['cache', 'hit'], registry }),
  );
  // every label set made once: verifications are counted per container of each review
  const byResult = Object.fromEntries(RESULTS.map((result) => [result, { count: results.slot({ result }), latency: latency.slot({ result }) }])) as Record<VerificationResult, { count: CounterSlot; latency: HistogramSlot }>;
  const byCache = Object.fromEntries(CACHES.map((cache) => [cache, { hit: caches.slot({ cache, hit: 'true' }), miss: caches.slot({ cache, hit: 'false' }) }])) as Record<Cache, { hit: CounterSlot; miss: CounterSlot }>;
  return {
    result: (r, seconds) => {
      byResult[r].count.inc();
      byResult[r].latency.observe(seconds);
    },
    cache: (cache, hit) => (hit ? byCache[cache].hit : byCache[cache].miss).inc(),
  };
}
