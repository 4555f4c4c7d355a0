// Answers built from cache entries, kept per image and digest so the next review of that image reuses them: the image
// facts read from the digest cache, the signature facts concluded from cached verdicts.
import { flat } from './cache-size.js';

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
    // keys built by concatenation keep their pieces alive: kept flat (cache-size.ts)
    byDigest.set(digest, { ...kept, keys: kept.keys.map(flat) });
  }

  clear(): void {
    this.byImage.clear();
    this.size = 0;
  }
}
