// The caches fact peeks read (image facts, tags, signature and attestation verdicts, pull secrets), watched: every
// change to them counts in one generation, and a peek in progress learns when each entry it reads expires. The engine
// answers a peek's facts again while the generation stands still and none of those entries expired.
import { LRUCache } from 'lru-cache';
import type { CacheHits, FactGatherer } from '../engine/facts.js';

let changes = 0;
/** the peek in progress (peeks are synchronous: one at a time) */
let reading: CacheHits | undefined;

/** A number that changes with every change to a watched cache. */
export function cacheGeneration(): number {
  return changes;
}

function changed(): void {
  changes++;
}

/** Notes, for the peek in progress, that an entry it read is answered until `at` (epoch ms). */
export function noteExpiry(at: number): void {
  reading?.expireBy(at);
}

/** Runs a peek, noting in `hits` when the earliest watched-cache entry it reads expires. */
export function watchReads<T>(hits: CacheHits, peek: () => T): T {
  const outer = reading;
  reading = hits;
  try {
    return peek();
  } finally {
    reading = outer;
  }
}

/** An LRU cache whose changes (set, delete, clear, eviction, expiry) count in the generation and whose reads during a
 * peek note when the entry read expires. */
export class WatchedCache<K extends {}, V extends {}> extends LRUCache<K, V> {
  constructor(options: LRUCache.Options<K, V, unknown>) {
    super({ ...options, dispose: changed });
  }

  override get(key: K, options?: LRUCache.GetOptions<K, V, unknown>): V | undefined {
    const value = super.get(key, options);
    if (reading && value !== undefined) {
      const ttl = this.getRemainingTTL(key);
      if (ttl !== Infinity) reading.expireBy(Date.now() + ttl);
    }
    return value;
  }

  override set(key: K, value: V | undefined, options?: LRUCache.SetOptions<K, V, unknown>): this {
    changed();
    return super.set(key, value, options);
  }

  override delete(key: K): boolean {
    changed();
    return super.delete(key);
  }

  override clear(): void {
    changed();
    super.clear();
  }
}

/** The gatherer `current()` names, with its peeks watched and the generation: what the engine needs to answer
 * peeked facts again (src/engine/peeked-facts.ts). */
export function watchedGatherer(current: () => FactGatherer): FactGatherer {
  return {
    gather: (request) => current().gather(request),
    peek: (request, hits) => watchReads(hits, () => current().peek?.(request, hits)),
    generation: cacheGeneration,
  };
}
