import type { LRUCache } from 'lru-cache';
import { WatchedCache } from './watched-cache.js';

// Sizes of cache entries in bytes, for lru-cache's maxSize: every cache that grows with distinct images is bounded
// in bytes as well as in entries (long image names or error messages cannot stretch an entry-counted cache). The
// figures are V8's (64-bit, pointer compression off), read from heap snapshots of a filled cache.

/** Heap bytes an entry costs besides its strings: map slot, LRU bookkeeping, object headers (measured ~120). */
export const ENTRY_OVERHEAD_BYTES = 128;
/** What an Error kept in a cache costs besides its message: the captured stack frames. */
export const ERROR_OVERHEAD_BYTES = 1024;
/**
 * A string's header (map, hash, length) with its alignment, rounded up: V8 gives a 7-character string 24 bytes and a
 * 64-character one 80, so 20 plus the length never counts less.
 */
const STRING_HEADER_BYTES = 20;
/** An array's header and its backing store's header. */
const ARRAY_HEADER_BYTES = 48;
/** An object in dictionary mode (as parsed JSON records with many keys are): header and hash table. */
const RECORD_HEADER_BYTES = 64;
/** A dictionary slot: key, value, details. */
const RECORD_SLOT_BYTES = 24;

function stringBytes(s: string): number {
  return STRING_HEADER_BYTES + s.length;
}

// Approximate heap bytes of an entry holding these strings (one byte per character: keys and digests are ASCII).
export function entryBytes(...strings: readonly string[]): number {
  let n = ENTRY_OVERHEAD_BYTES;
  for (const s of strings) n += stringBytes(s);
  return n;
}

/** Heap bytes of a list of strings (an image's Env): the array, its slots and its strings. */
export function listBytes(list: readonly string[]): number {
  let n = ARRAY_HEADER_BYTES + 8 * list.length;
  for (const s of list) n += stringBytes(s);
  return n;
}

/** Heap bytes of a record of strings (an image's labels): the object, its slots, its keys and values. */
export function recordBytes(record: Readonly<Record<string, string>>): number {
  let n = RECORD_HEADER_BYTES;
  for (const k in record) n += RECORD_SLOT_BYTES + stringBytes(k) + stringBytes(record[k]!);
  return n;
}

/**
 * The same string as one flat piece of memory. A key built with `+`, a template or `slice` is a tree of the
 * pieces it was made from (and keeps the string it was cut from alive): kept in a cache, it costs twice its length.
 */
export function flat(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

/** How the image-facts caches share `registry.cache.maxBytes`. */
export function factsCacheBudget(maxBytes: number) {
  return { digests: Math.floor(maxBytes / 2), tags: Math.floor(maxBytes / 2), failures: Math.floor(maxBytes / 8) };
}

export interface BoundedCacheOptions<K, V> {
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** an entry's heap bytes (the functions above) */
  readonly sizeOf: (value: V, key: K) => number;
  /** how long an entry is answered (none: until evicted) */
  readonly ttlMs?: number;
}

/**
 * An LRU cache bounded in bytes and in entries, watched (watched-cache.ts). The entry bound is kept through the
 * sizes (an entry costs at least maxBytes / maxEntries), so nothing is allocated for it up front: given `max`,
 * lru-cache allocates about eight arrays of `max` slots at once (0.5 MB for each cache of 10,000 entries, empty or
 * not).
 */
export function boundedCache<K extends {}, V extends {}>(o: BoundedCacheOptions<K, V>): LRUCache<K, V> {
  const least = Math.ceil(o.maxBytes / Math.max(1, o.maxEntries));
  return new WatchedCache<K, V>({ maxSize: o.maxBytes, sizeCalculation: (v, k) => Math.max(o.sizeOf(v, k), least), ...(o.ttlMs ? { ttl: o.ttlMs } : {}) });
}
