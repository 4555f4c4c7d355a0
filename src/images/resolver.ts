// The one tag -> digest resolver: image facts, signature verification and digest pinning all ask it, so the digest
// that is inspected, the digest that is verified and the digest that is pinned are the same answer of the registry.
// Tags are resolved once per (repository, tag, credential) while in flight and cached for tagTtl; the manifest a tag
// GET brought back is kept briefly by digest, so the look-up that follows at that digest sends no second request.

import type { LRUCache } from 'lru-cache';
import type { CallOptions, FetchedManifest, RegistryClient, RepoRef } from './client.js';
import type { DockerConfigJson } from './credentials.js';
import type { ImageReference } from './reference.js';
import { toRegistryError, type RegistryError } from './errors.js';
import { noteExpiry } from './watched-cache.js';
import { boundedCache, ERROR_OVERHEAD_BYTES, entryBytes, factsCacheBudget, flat } from './cache-size.js';
import { DEFAULT_REGISTRY_OPTIONS } from './options.js';

export interface ResolverOptions {
  /** how long a tag -> digest answer is reused (0: resolve on every look-up) */
  tagTtlMs: number;
  /** how long a failed resolution is answered from cache (timeouts never are; default 0: not cached) */
  failureTtlMs?: number;
  maxEntries: number;
  /** registry.cache.maxBytes: the tag and failure caches take their shares of it (cache-size.ts) */
  maxBytes?: number;
  /** how long a fetched manifest is kept by digest for the look-up that follows (default 60 s) */
  manifestTtlMs?: number;
  /** bytes of manifests kept (default 1 MiB) */
  manifestMaxBytes?: number;
  /** counts cache hits and misses ('tag', 'manifest', 'inflight') */
  observe?: (cache: 'tag' | 'manifest' | 'inflight' | 'failure', hit: boolean) => void;
  /** called once per failed resolution (not for answers from the failure cache) */
  onFailure?: (ref: ImageReference, error: RegistryError) => void;
}

const MANIFEST_TTL_MS = 60_000;
/** enough for the manifests of the reviews of the last moments: /mutate's tag GET bridges to /validate's digest look-up */
const MANIFEST_MAX_BYTES = 1024 * 1024;
/** What a parsed descriptor (a layer, an index entry) costs on the heap: object, digest and media type strings. */
const DESCRIPTOR_BYTES = 256;

/** A manifest as kept by digest: parsed, without the bytes it was parsed from (nothing reads them again). */
export type KeptManifest = Omit<FetchedManifest, 'bytes'>;

function keptBytes(m: KeptManifest, key: string): number {
  const descriptors = m.manifest.kind === 'index' ? m.manifest.manifests.length : m.manifest.layers.length + 1;
  return entryBytes(key, m.digest, m.mediaType) + DESCRIPTOR_BYTES * descriptors;
}

// Where a tag lives, for cache and in-flight keys: repository and tag (the credential is added by the caller).
function tagKeyOf(ref: Pick<ImageReference, 'registry' | 'repository' | 'tag'>): string {
  return `${ref.registry}/${ref.repository}:${ref.tag ?? 'latest'}`;
}

/** The digest a tag named when it was last resolved (epoch ms). */
interface TagEntry {
  readonly digest: string;
  readonly at: number;
}

export class ImageResolver {
  private readonly client: RegistryClient;
  /**
   * The digest each tag named: answered for tagTtl; kept after that (until evicted) so that a HEAD is enough to learn
   * whether the tag moved
   */
  private readonly tags: LRUCache<string, TagEntry>;
  private readonly manifests: LRUCache<string, KeptManifest>;
  private readonly failures: LRUCache<string, RegistryError>;
  private readonly flights = new Map<string, Promise<string>>();
  private readonly tagTtlMs: number;
  private readonly failureTtlMs: number;
  private readonly observe: NonNullable<ResolverOptions['observe']>;
  private readonly onFailure: ResolverOptions['onFailure'];

  constructor(client: RegistryClient, options: ResolverOptions) {
    this.client = client;
    this.tagTtlMs = options.tagTtlMs;
    this.failureTtlMs = options.failureTtlMs ?? 0;
    this.observe = options.observe ?? (() => {});
    this.onFailure = options.onFailure;
    const bytes = factsCacheBudget(options.maxBytes ?? DEFAULT_REGISTRY_OPTIONS.cache.maxBytes);
    // failed tags: half the failure share (the image facts' failures at a digest take the other half)
    this.failures = boundedCache<string, RegistryError>({
      maxEntries: Math.min(options.maxEntries, 10_000),
      maxBytes: Math.floor(bytes.failures / 2),
      sizeOf: (e, k) => entryBytes(k, e.message) + ERROR_OVERHEAD_BYTES,
      ttlMs: Math.max(1, this.failureTtlMs),
    });
    this.tags = boundedCache<string, TagEntry>({ maxEntries: options.maxEntries, maxBytes: bytes.tags, sizeOf: (v, k) => entryBytes(k, v.digest) + 32 });
    this.manifests = boundedCache<string, KeptManifest>({
      maxEntries: Math.min(options.maxEntries, 4096),
      maxBytes: options.manifestMaxBytes ?? MANIFEST_MAX_BYTES,
      sizeOf: keptBytes,
      ttlMs: options.manifestTtlMs ?? MANIFEST_TTL_MS,
    });
  }

  get registryClient(): RegistryClient {
    return this.client;
  }

  // The digest a tag names from the cache alone (no request), or undefined; a digest reference names itself.
  peek(ref: ImageReference, credentials?: DockerConfigJson): string | undefined {
    if (ref.digest) return ref.digest;
    if (this.tagTtlMs <= 0) return undefined;
    const entry = this.tags.get(this.keyOf(ref, credentials));
    if (!entry || Date.now() - entry.at >= this.tagTtlMs) return undefined;
    noteExpiry(entry.at + this.tagTtlMs);
    return entry.digest;
  }

  // The digest the reference names now: its own digest, else what its tag names (index digest for multi-arch images).
  async digestOf(ref: ImageReference, call: CallOptions): Promise<string> {
    if (ref.digest) return ref.digest;
    const key = this.keyOf(ref, call.credentials);
    const cached = this.peek(ref, call.credentials);
    this.observe('tag', cached !== undefined);
    if (cached) return cached;
    const failed = this.failureTtlMs > 0 ? this.failures.get(key) : undefined;
    this.observe('failure', failed !== undefined);
    if (failed) throw failed;
    let flight = this.flights.get(key);
    this.observe('inflight', flight !== undefined);
    if (!flight) {
      const f = this.resolveTag(ref, key, call).catch((err: unknown) => {
        const e = toRegistryError(err, 'REGISTRY_UNREACHABLE', ref.registry);
        // timeouts depend on the caller's deadline, so they are not remembered
        if (e.code !== 'REGISTRY_TIMEOUT' && this.failureTtlMs > 0) this.failures.set(key, e);
        this.onFailure?.(ref, e);
        throw e;
      });
      this.flights.set(key, f);
      void f.finally(() => this.flights.get(key) === f && this.flights.delete(key)).catch(() => {});
      flight = f;
    }
    return flight;
  }

  // The manifest at a digest: the one a tag look-up just fetched when it is still kept, else a GET by digest.
  async manifest(repo: RepoRef, digest: string, call: CallOptions): Promise<KeptManifest> {
    const kept = this.manifests.get(`${repo.registry}/${repo.repository}@${digest}`);
    this.observe('manifest', kept !== undefined);
    if (kept) return kept;
    return this.client.getManifest(repo, digest, call);
  }

  clear(): void {
    this.tags.clear();
    this.failures.clear();
    this.manifests.clear();
  }

  private keyOf(ref: ImageReference, credentials?: DockerConfigJson): string {
    const repo = { registry: ref.registry, repository: ref.repository };
    return `${tagKeyOf(ref)}|${this.client.credentialKey(repo, credentials)}`;
  }

  private keep(repo: RepoRef, m: FetchedManifest): void {
    this.manifests.set(flat(`${repo.registry}/${repo.repository}@${m.digest}`), { digest: m.digest, mediaType: m.mediaType, size: m.size, manifest: m.manifest });
  }

  // One registry round for a tag: a HEAD when the tag was seen before (its digest's facts are likely cached), else a
  // GET whose manifest is kept for the look-up at the digest that follows.
  private async resolveTag(ref: ImageReference, key: string, call: CallOptions): Promise<string> {
    const repo: RepoRef = { registry: ref.registry, repository: ref.repository };
    const tag = ref.tag ?? 'latest';
    let digest: string;
    if (this.tags.has(key)) {
      digest = (await this.client.resolve(repo, tag, call)).digest;
    } else {
      const m = await this.client.getManifest(repo, tag, call);
      this.keep(repo, m);
      digest = m.digest;
    }
    this.tags.set(flat(key), { digest, at: Date.now() });
    return digest;
  }
}
