// The facts the engine gathers for policies before running them (image configs, signatures).
import type { DigestFact, Facts, FactKind, PodSite } from './types.js';

export interface FactRequest {
  readonly pod: PodSite;
  readonly namespace?: string;
  /** the images each kind of fact is needed for */
  readonly images: ReadonlyMap<FactKind, ReadonlySet<string>>;
  /** epoch milliseconds by which every look-up must have finished */
  readonly deadline: number;
  /** each image's digest, resolved once for the review before image facts and signatures are looked up at it */
  readonly digests?: ReadonlyMap<string, DigestFact>;
}

/**
 * What a peek read from the caches: the metric updates of the cache hits its answer used (each cache's hit counters,
 * look-up latencies), applied by the caller when it uses the answer so that a peek that falls back to gather counts
 * nothing twice; and when the earliest entry it read expires.
 */
export class CacheHits {
  readonly counts: Array<() => void> = [];
  /** epoch ms at which the first cache entry the answer was read from expires (Infinity: none does) */
  expiresAt = Infinity;

  push(count: () => void): void {
    this.counts.push(count);
  }

  // Notes that an entry the answer was read from expires at `at` (epoch ms).
  expireBy(at: number): void {
    if (at < this.expiresAt) this.expiresAt = at;
  }

  count(): void {
    for (const count of this.counts) count();
  }
}

export interface FactGatherer {
  gather(request: FactRequest): Promise<Facts>;
  /**
   * The same facts gather would answer, from caches alone: undefined when any is missing, expired, in flight or needs
   * a registry or API round (the caller then gathers). Gatherers without it are always gathered.
   */
  peek?(request: FactRequest, hits: CacheHits): Facts | undefined;
  /**
   * A number that changes whenever a cache peek reads changes (an entry set, replaced, deleted or evicted). Peeked
   * facts are answered again for the same request while it holds and no entry they were read from expired; gatherers
   * without it are peeked for every request.
   */
  readonly generation?: () => number;
}

// Peeks, applying the hits' metrics when the caches answered; gathers when they did not.
export function factsNow(gatherer: FactGatherer, request: FactRequest): Facts | Promise<Facts> {
  if (gatherer.peek) {
    const hits = new CacheHits();
    const facts = gatherer.peek(request, hits);
    if (facts) {
      hits.count();
      return facts;
    }
  }
  return gatherer.gather(request);
}

/** Facts when nothing can be looked up: every image fact is unavailable. */
export const NO_FACTS: Facts = {
  image: () => ({ status: 'unavailable' }),
  signature: () => ({ status: 'unavailable', code: 'UNAVAILABLE', reason: 'signature verification is not configured' }),
  digest: () => ({ status: 'unavailable' }),
  attestation: () => ({ status: 'unavailable', code: 'UNAVAILABLE', message: 'attestation verification is not configured', attestations: [] }),
};

export const NO_FACT_GATHERER: FactGatherer = { gather: async () => NO_FACTS, peek: () => NO_FACTS };
