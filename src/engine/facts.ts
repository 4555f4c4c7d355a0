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

/** A cache the answers of KeptAnswers are checked against: an LRUCache (get answers undefined once an entry expired). */
export interface EntryCache<E> {
  get(key: string): E | undefined;
}

/** An answer built from cache entries, with the keys it read and what they held (undefined: nothing). */
export interface Kept<A, E> {
  /** what else the answer depends on, compared by identity (the params or the platform it was built for) */
  readonly basis: object;
  readonly keys: readonly string[];
  readonly held: ReadonlyArray<E | undefined>;
  readonly answer: A;
}

/** answers kept by image and digest; all dropped past this (a cluster reviews far fewer distinct images at once) */
const MAX_KEPT = 1024;

// Answers built from cache entries, by image and digest: the next review of the image at that digest gets the same
// answer without building it anew, while the cache holds exactly the entries it was built from (none expired,
// evicted or replaced, none added where there was none) and its basis is the same object.
export class KeptAnswers<A, E> {
  private readonly byImage = new Map<string, Map<string, Kept<A, E>>>();
  private size = 0;
  private readonly cache: EntryCache<E>;

  constructor(cache: EntryCache<E>) {
    this.cache = cache;
  }

  get(image: string, digest: string, basis: object): A | undefined {
    const kept = this.byImage.get(image)?.get(digest);
    if (!kept || kept.basis !== basis) return undefined;
    for (let i = 0; i < kept.keys.length; i++) if (this.cache.get(kept.keys[i] as string) !== kept.held[i]) return undefined;
    return kept.answer;
  }

  set(image: string, digest: string, kept: Kept<A, E>): void {
    if (this.size >= MAX_KEPT) this.clear();
    let byDigest = this.byImage.get(image);
    if (!byDigest) this.byImage.set(image, (byDigest = new Map()));
    if (!byDigest.has(digest)) this.size++;
    byDigest.set(digest, kept);
  }

  clear(): void {
    this.byImage.clear();
    this.size = 0;
  }
}
