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
 * The metric updates of the cache hits a peeked answer used (each cache's hit counters, look-up latencies): the caller
 * applies them when it uses the answer, so that a peek that falls back to gather counts nothing twice.
 */
export type CacheHits = Array<() => void>;

export interface FactGatherer {
  gather(request: FactRequest): Promise<Facts>;
  /**
   * The same facts gather would answer, from caches alone: undefined when any is missing, expired, in flight or needs
   * a registry or API round (the caller then gathers). Gatherers without it are always gathered.
   */
  peek?(request: FactRequest, hits: CacheHits): Facts | undefined;
}

// Peeks, applying the hits' metrics when the caches answered; gathers when they did not.
export function factsNow(gatherer: FactGatherer, request: FactRequest): Facts | Promise<Facts> {
  if (gatherer.peek) {
    const hits: CacheHits = [];
    const facts = gatherer.peek(request, hits);
    if (facts) {
      for (const count of hits) count();
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
