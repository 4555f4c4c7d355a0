import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { cacheGeneration, noteExpiry, watchReads, WatchedCache } from './watched-cache.js';
import { CacheHits } from '../engine/facts.js';

describe('watched caches', () => {
  it('count every change in the generation: set, delete, clear, eviction, expiry', async () => {
    const cache = new WatchedCache<string, string>({ max: 2, ttl: 20 });
    const changes = (run: () => unknown): number => {
      const before = cacheGeneration();
      run();
      return cacheGeneration() - before;
    };
    expect(changes(() => cache.set('a', '1'))).toBeGreaterThan(0);
    expect(changes(() => cache.get('a'))).toBe(0);
    expect(changes(() => cache.delete('a'))).toBeGreaterThan(0);
    cache.set('a', '1');
    cache.set('b', '2');
    const evicted = new WatchedCache<string, string>({ max: 1 });
    evicted.set('a', '1');
    const before = cacheGeneration();
    evicted.set('b', '2');
    expect(cacheGeneration() - before).toBeGreaterThan(1); // the set, and the eviction of a
    expect(changes(() => cache.clear())).toBeGreaterThan(0);
    cache.set('c', '3');
    await sleep(40);
    expect(changes(() => expect(cache.get('c')).toBeUndefined())).toBeGreaterThan(0);
  });

  it('note, during a watched peek only, when each entry read expires', () => {
    const cache = new WatchedCache<string, string>({ max: 10, ttl: 60_000 });
    const forever = new WatchedCache<string, string>({ max: 10 });
    cache.set('a', '1');
    forever.set('b', '2');
    const hits = new CacheHits();
    const started = Date.now();
    watchReads(hits, () => forever.get('b'));
    expect(hits.expiresAt).toBe(Infinity);
    watchReads(hits, () => [cache.get('a'), cache.get('missing')]);
    expect(hits.expiresAt).toBeGreaterThanOrEqual(started + 59_000);
    expect(hits.expiresAt).toBeLessThanOrEqual(Date.now() + 60_000);
    watchReads(hits, () => noteExpiry(started + 5));
    expect(hits.expiresAt).toBe(started + 5);
    const outside = new CacheHits();
    cache.get('a');
    noteExpiry(0);
    expect(outside.expiresAt).toBe(Infinity);
    expect(hits.expiresAt).toBe(started + 5);
  });
});
