// Sizes of cache entries in bytes, for lru-cache's maxSize: every cache that grows with distinct images is bounded
// in bytes as well as in entries (long image names or error messages cannot stretch an entry-counted cache).

/** Heap bytes an entry costs besides its strings: map slot, LRU bookkeeping, object headers (measured ~120). */
export const ENTRY_OVERHEAD_BYTES = 128;
/** What an Error kept in a cache costs besides its message: the captured stack frames. */
export const ERROR_OVERHEAD_BYTES = 1024;

// Approximate heap bytes of an entry holding these strings (one byte per character: keys and digests are ASCII).
export function entryBytes(...strings: readonly string[]): number {
  let n = ENTRY_OVERHEAD_BYTES;
  for (const s of strings) n += s.length;
  return n;
}

/** How the image-facts caches share `registry.cache.maxBytes`. */
export function factsCacheBudget(maxBytes: number) {
  return { digests: Math.floor(maxBytes / 2), tags: Math.floor(maxBytes / 4), lastKnown: Math.floor(maxBytes / 4), failures: Math.floor(maxBytes / 8) };
}
