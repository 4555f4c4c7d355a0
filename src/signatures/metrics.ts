// prom-client metrics of signature (and attestation) verification, registered on the Registry the caller passes.

import { Counter, Histogram, type Registry } from 'prom-client';
import { getOrCreate, LOOKUP_BUCKETS } from '../images/metrics.js';

export type VerificationResult = 'verified' | 'unverified' | 'error' | 'unavailable';

export interface SignatureMetrics {
  result(result: VerificationResult, seconds: number): void;
  cache(cache: 'outcome' | 'tag' | 'inflight', hit: boolean): void;
}

export function createSignatureMetrics(registry?: Registry, kind: 'signature' | 'attestation' = 'signature'): SignatureMetrics {
  if (!registry) return { result() {}, cache() {} };
  const results = getOrCreate(registry, `portcullis_${kind}_verifications_total`, () =>
    new Counter({ name: `portcullis_${kind}_verifications_total`, help: `image ${kind} verifications, by result`, labelNames: ['result'] as const, registers: [registry] }),
  );
  const latency = getOrCreate(registry, `portcullis_${kind}_verification_duration_seconds`, () =>
    new Histogram({
      name: `portcullis_${kind}_verification_duration_seconds`,
      help: `image ${kind} verification latency (registry discovery and cryptography), by result`,
      labelNames: ['result'] as const,
      buckets: LOOKUP_BUCKETS,
      registers: [registry],
    }),
  );
  const caches = getOrCreate(registry, `portcullis_${kind}_cache_lookups_total`, () =>
    new Counter({ name: `portcullis_${kind}_cache_lookups_total`, help: `${kind} cache look-ups (outcome by digest and authority, tag, in-flight), by hit`, labelNames: ['cache', 'hit'] as const, registers: [registry] }),
  );
  return {
    result: (r, seconds) => {
      results.inc({ result: r });
      latency.observe({ result: r }, seconds);
    },
    cache: (cache, hit) => caches.inc({ cache, hit: String(hit) }),
  };
}
