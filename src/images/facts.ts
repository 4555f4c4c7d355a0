// Image facts for the policy engine: an image reference (at the digest the resolver names for it) to its platform
// manifest and config User, with digest and failure caches and one shared in-flight look-up per image.

import type { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { RegistryClient, type CallOptions, type RepoRef } from './client.js';
import { loadDockerConfig, type DockerConfigJson } from './credentials.js';
import { RegistryError } from './errors.js';
import { MEDIA_TYPES, isIndexMediaType, parseImageConfig } from './manifest.js';
import { createImageMetrics, type ImageMetrics } from './metrics.js';
import { registryTimings, resolveRegistryOptions, type RegistryOptions, type RegistryOptionsInput } from './options.js';
import { choosePlatform, formatPlatform, sharedPlatform, type Platform } from './platform.js';
import { referenceOf, ImageReferenceError, type ImageReference } from './reference.js';
import { ImageResolver } from './resolver.js';
import { settleBy } from '../engine/deadline.js';
import type { CacheHits } from '../engine/facts.js';
import { KeptAnswers } from './kept-answers.js';
import { boundedCache, ERROR_OVERHEAD_BYTES, entryBytes, factsCacheBudget, flat, listBytes, recordBytes } from './cache-size.js';

export type { Platform } from './platform.js';
export type { DockerConfigJson } from './credentials.js';

export interface ImageFacts {
  /** as written in the pod spec */
  reference: string;
  registry: string;
  repository: string;
  /** digest of the platform-specific image manifest that was inspected */
  digest: string;
  /** digest of the index / manifest list when the reference resolved to one */
  indexDigest?: string;
  /** the platform chosen */
  platform: Platform;
  /** the config's config.User, '' when unset */
  user: string;
  /** the config's config.Env */
  env: readonly string[];
  /** the config's config.Labels */
  labels: Readonly<Record<string, string>>;
  /** bytes of the platform manifest's layers (compressed) */
  compressedSize: number;
}

export interface LookupOptions {
  /** platform to choose from a multi-arch index (the `registry.platform` option when left out at run time) */
  platform: Platform;
  /** epoch ms */
  deadline: number;
  credentials?: DockerConfigJson;
  /** the digest the tag was resolved to for this review (one resolution shared with signatures and pinning) */
  digest?: string;
}

export type FactsResult = { ok: true; facts: ImageFacts } | { ok: false; error: RegistryError };

export interface ImageFactsSource {
  lookup(image: string, opts: LookupOptions): Promise<FactsResult>;
  /**
   * What lookup would answer, from the caches alone (no registry round, no timer): undefined when it would need one.
   * The hits' metrics are pushed to `hits` for the caller to count when it uses the answer.
   */
  peek?(image: string, opts: LookupOptions, hits: CacheHits): FactsResult | undefined;
  close(): Promise<void>;
}

export interface ImageFactsDeps {
  metrics?: Registry;
  logger?: Logger;
  /** a client to use instead of one built from the options (tests, sharing with signature checks) */
  client?: RegistryClient;
  /** the tag resolver shared with signature verification and pinning (built over the client when left out) */
  resolver?: ImageResolver;
}

interface ManifestEntry {
  kind: 'manifest';
  user: string;
  env: readonly string[];
  labels: Readonly<Record<string, string>>;
  compressedSize: number;
  platform: Platform;
}
interface IndexChoice {
  kind: 'choice';
  digest: string;
  platform: Platform;
}
type DigestEntry = ManifestEntry | IndexChoice;

/** what a digest resolves to: the facts without the reference they were asked for by */
type Resolved = Omit<ImageFacts, 'reference' | 'registry' | 'repository'>;

interface Flight {
  promise: Promise<FactsResult>;
  deadline: number;
}

/** The digest cache's keys a look-up read, and what each held. */
interface Reads {
  readonly keys: string[];
  readonly held: Array<DigestEntry | undefined>;
}

/** A look-up the caches cannot answer: the reference, and the digest to look up at when it is known. */
interface Miss {
  readonly ref: ImageReference;
  readonly top: string | undefined;
}

const CACHEABLE_CONFIG_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.ociConfig, MEDIA_TYPES.dockerConfig]);
const MAX_INDEX_DEPTH = 2;

function ok(facts: ImageFacts): FactsResult {
  return { ok: true, facts };
}
function fail(error: RegistryError): FactsResult {
  return { ok: false, error };
}

// Builds the image facts source from registry options; throws when the CA file or docker config cannot be read.
export function createImageFactsSource(options: RegistryOptions | RegistryOptionsInput, deps: ImageFactsDeps = {}): ImageFactsSource {
  const resolved = resolveRegistryOptions(options);
  if (!resolved.enabled) return disabledSource();
  return new FactsSource(resolved, deps);
}

function disabledSource(): ImageFactsSource {
  const disabled = () => fail(new RegistryError('REGISTRY_DISABLED', 'registry look-ups are disabled (registry.enabled: false)'));
  return { lookup: async () => disabled(), peek: disabled, close: async () => {} };
}

class FactsSource implements ImageFactsSource {
  private readonly client: RegistryClient;
  private readonly ownsClient: boolean;
  private readonly metrics: ImageMetrics;
  private readonly logger: Logger | undefined;
  private readonly timeoutMs: number;
  private readonly defaultPlatform: Platform;
  private readonly resolver: ImageResolver;
  private readonly ownsResolver: boolean;
  private readonly digests: LRUCache<string, DigestEntry>;
  private readonly failures: LRUCache<string, RegistryError>;
  private readonly inflight = new Map<string, Flight>();
  /** facts at a digest, kept while the digest cache holds the entries they were read from */
  private readonly kept: KeptAnswers<FactsResult, DigestEntry>;
  /** the metrics recording of each answer a peek gave, made once per answer (kept answers are answered again) */
  private readonly recorders = new WeakMap<FactsResult, () => void>();
  private closed = false;
  private readonly cacheFailures: boolean;

  constructor(options: RegistryOptions, deps: ImageFactsDeps) {
    const t = registryTimings(options);
    this.timeoutMs = t.timeoutMs;
    this.defaultPlatform = t.defaultPlatform;
    this.metrics = createImageMetrics(deps.metrics);
    this.logger = deps.logger?.child({ component: 'images' });
    this.ownsClient = !deps.client;
    this.client =
      deps.client ??
      new RegistryClient({
        insecure: options.insecure,
        ...(options.caFile ? { caFile: options.caFile } : {}),
        ...(options.dockerConfig ? { dockerConfig: loadDockerConfig(options.dockerConfig) } : {}),
        concurrencyPerRegistry: options.concurrencyPerRegistry,
        maxResponseBytes: options.maxResponseBytes,
        ...(this.logger ? { logger: this.logger } : {}),
        observe: (registry, status) => this.metrics.request(registry, status),
      });
    const { maxEntries, maxBytes } = options.cache;
    const bytes = factsCacheBudget(maxBytes);
    this.digests = boundedCache<string, DigestEntry>({
      maxEntries,
      maxBytes: bytes.digests,
      sizeOf: (v, k) => (v.kind === 'manifest' ? entryBytes(k, v.user) + listBytes(v.env) + recordBytes(v.labels) + 96 : entryBytes(k, v.digest) + 80),
      ...(t.digestTtlMs ? { ttlMs: t.digestTtlMs } : {}),
    });
    this.ownsResolver = !deps.resolver;
    this.resolver = deps.resolver ?? new ImageResolver(this.client, { tagTtlMs: t.tagTtlMs, maxEntries, maxBytes });
    this.failures = boundedCache<string, RegistryError>({ maxEntries: Math.min(maxEntries, 10_000), maxBytes: Math.floor(bytes.failures / 2), sizeOf: (e, k) => entryBytes(k, e.message) + ERROR_OVERHEAD_BYTES, ttlMs: Math.max(t.failureTtlMs, 1) });
    this.cacheFailures = t.failureTtlMs > 0;
    this.kept = new KeptAnswers(this.digests);
  }

  async lookup(image: string, opts: LookupOptions): Promise<FactsResult> {
    const started = performance.now();
    const known = this.known(image, opts);
    this.countCache(known);
    const result = isMiss(known) ? await this.lookupInner(image, opts, known) : known;
    this.metrics.lookup(result.ok ? 'ok' : 'error', (performance.now() - started) / 1000);
    return result;
  }

  peek(image: string, opts: LookupOptions, hits: CacheHits): FactsResult | undefined {
    const started = performance.now();
    const known = this.known(image, opts);
    if (isMiss(known)) return undefined;
    let record = this.recorders.get(known);
    if (!record) {
      // a kept answer is recorded at the latency of the peek that first answered it (microseconds: the first bucket)
      const seconds = (performance.now() - started) / 1000;
      record = () => {
        this.countCache(known);
        this.metrics.lookup(known.ok ? 'ok' : 'error', seconds);
      };
      this.recorders.set(known, record);
    }
    hits.push(record);
    return known;
  }

  // Counts the facts cache's hit or miss (a closed source or an invalid reference asks no cache).
  private countCache(known: FactsResult | Miss): void {
    if (isMiss(known)) this.metrics.cache('facts', false);
    else if (known.ok) this.metrics.cache('facts', true);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.digests.clear();
    this.kept.clear();
    this.failures.clear();
    if (this.ownsResolver) this.resolver.clear();
    if (this.ownsClient) await this.client.close();
  }

  // What a look-up answers without the registry (a closed source, an invalid reference, cached facts), else the miss.
  // The facts of an image at a given digest are kept while the digest cache holds the entries they were read from.
  private known(image: string, opts: LookupOptions): FactsResult | Miss {
    if (this.closed) return fail(new RegistryError('SOURCE_CLOSED', 'image facts source is closed'));
    const ref = referenceOf(image);
    if (ref instanceof ImageReferenceError) return fail(new RegistryError('INVALID_REFERENCE', ref.message, { cause: ref }));
    const platform = opts.platform ?? this.defaultPlatform;
    const pinned = ref.digest ?? opts.digest;
    const kept = pinned ? this.kept.get(image, pinned, platform) : undefined;
    if (kept) return kept;
    const top = pinned ?? this.resolver.peek(ref, opts.credentials);
    const read: Reads = { keys: [], held: [] };
    const cached = top ? this.fromDigestCache(this.repoKey(ref), top, platform, 0, read) : undefined;
    if (!cached) return { ref, top };
    const result = ok(this.toFacts(image, ref, cached));
    // a tag's digest depends on the credentials it was resolved with: only facts at a given digest are kept
    if (pinned) this.kept.set(image, pinned, { basis: platform, ...read, answer: result });
    return result;
  }

  // The registry side of a look-up the caches could not answer: the failure cache, a shared flight, our own.
  private async lookupInner(image: string, opts: LookupOptions, { ref, top }: Miss): Promise<FactsResult> {
    const platform = opts.platform ?? this.defaultPlatform;
    const cap = Date.now() + this.timeoutMs;
    const deadline = Number.isFinite(opts.deadline) ? Math.min(opts.deadline, cap) : cap;
    const repo: RepoRef = { registry: ref.registry, repository: ref.repository };
    const at = top ? `@${top}` : `:${ref.tag ?? 'latest'}`;
    const key = `${ref.name}${at}|${formatPlatform(platform)}|${this.client.credentialKey(repo, opts.credentials)}`;
    const failed = this.failures.get(key);
    this.metrics.cache('failure', failed !== undefined);
    if (failed) return fail(failed);

    for (let round = 0; round < 2; round++) {
      let flight = this.inflight.get(key);
      this.metrics.cache('inflight', flight !== undefined);
      if (!flight) flight = this.startFlight(key, image, ref, top, platform, deadline, opts.credentials);
      const result = await raceDeadline(flight.promise, deadline, ref.registry);
      // a shared look-up that ran out of its (earlier) deadline: try again with ours
      if (!result.ok && result.error.code === 'REGISTRY_TIMEOUT' && flight.deadline < deadline - 20 && Date.now() < deadline - 20) continue;
      return result.ok ? ok({ ...result.facts, reference: image }) : result;
    }
    return fail(new RegistryError('REGISTRY_TIMEOUT', `${ref.registry}: no answer before the deadline`, { registry: ref.registry }));
  }

  private startFlight(key: string, image: string, ref: ImageReference, top: string | undefined, platform: Platform, deadline: number, credentials?: DockerConfigJson): Flight {
    const promise = this.resolveImage(ref, top, platform, { deadline, ...(credentials ? { credentials } : {}) }).then(
      (r) => ok(this.toFacts(image, ref, r)),
      (err: unknown) => {
        const e = err instanceof RegistryError ? err : new RegistryError('REGISTRY_UNREACHABLE', `${ref.registry}: ${err instanceof Error ? err.message.slice(0, 200) : 'unexpected error'}`, { registry: ref.registry, cause: err });
        // timeouts depend on the caller's deadline, so they are not remembered
        if (e.code !== 'REGISTRY_TIMEOUT' && !this.closed && this.cacheFailures) this.failures.set(flat(key), e);
        this.logger?.warn({ registry: ref.registry, repository: ref.repository, code: e.code, err: e.message }, 'image look-up failed');
        return fail(e);
      },
    );
    const flight: Flight = { promise, deadline };
    this.inflight.set(key, flight);
    void promise.finally(() => {
      if (this.inflight.get(key) === flight) this.inflight.delete(key);
    });
    return flight;
  }

  private toFacts(image: string, ref: ImageReference, r: Resolved): ImageFacts {
    return {
      reference: image,
      registry: ref.registry,
      repository: ref.repository,
      digest: r.digest,
      ...(r.indexDigest ? { indexDigest: r.indexDigest } : {}),
      platform: r.platform,
      user: r.user,
      env: r.env,
      labels: r.labels,
      compressedSize: r.compressedSize,
    };
  }

  private repoKey(ref: ImageReference): string {
    return ref.name;
  }

  // The facts at a digest from the digest cache alone (through the index's platform choice), noting what it read.
  private fromDigestCache(repoKey: string, digest: string, platform: Platform, depth: number, read?: Reads): Resolved | undefined {
    const key = `${repoKey}@${digest}`;
    const m = this.digests.get(key);
    read?.keys.push(key);
    read?.held.push(m);
    if (m?.kind === 'manifest') return { digest, platform: m.platform, user: m.user, env: m.env, labels: m.labels, compressedSize: m.compressedSize };
    const choiceKey = `${key}#${formatPlatform(platform)}`;
    const choice = this.digests.get(choiceKey);
    read?.keys.push(choiceKey);
    read?.held.push(choice);
    if (!choice || choice.kind !== 'choice' || depth >= MAX_INDEX_DEPTH) return undefined;
    const inner = this.fromDigestCache(repoKey, choice.digest, platform, depth + 1, read);
    return inner ? { ...inner, indexDigest: digest, platform: choice.platform } : undefined;
  }

  // The registry work of one look-up: the digest (given, or the resolver's answer for the tag), then manifests and config.
  private async resolveImage(ref: ImageReference, top: string | undefined, platform: Platform, call: CallOptions): Promise<Resolved> {
    const repo: RepoRef = { registry: ref.registry, repository: ref.repository };
    const digest = top ?? (await this.resolver.digestOf(ref, call));
    return this.resolveDigest(repo, this.repoKey(ref), digest, platform, call, 0);
  }

  private async resolveDigest(repo: RepoRef, repoKey: string, digest: string, platform: Platform, call: CallOptions, depth: number): Promise<Resolved> {
    const hit = this.fromDigestCache(repoKey, digest, platform, depth);
    if (hit) return hit;
    const m = await this.resolver.manifest(repo, digest, call);
    const registry = repo.registry;
    if (m.manifest.kind === 'index') {
      if (depth >= MAX_INDEX_DEPTH) throw new RegistryError('INVALID_MANIFEST', `${registry}: index nested more than ${MAX_INDEX_DEPTH} deep`, { registry });
      const entries = m.manifest.manifests.filter((d) => d.mediaType === MEDIA_TYPES.ociManifest || d.mediaType === MEDIA_TYPES.dockerManifest || isIndexMediaType(d.mediaType));
      const i = choosePlatform(platform, entries.map((d) => d.platform));
      const chosen = i === -1 ? undefined : entries[i];
      if (!chosen || !chosen.platform) {
        const have = entries.flatMap((d) => (d.platform ? [formatPlatform(d.platform)] : [])).slice(0, 10).join(', ');
        throw new RegistryError('PLATFORM_NOT_FOUND', `${registry}: expected ${formatPlatform(platform)} in the index, got ${have || 'no platforms'}`, { registry });
      }
      this.digests.set(flat(`${repoKey}@${digest}#${formatPlatform(platform)}`), { kind: 'choice', digest: chosen.digest, platform: chosen.platform });
      const inner = await this.resolveDigest(repo, repoKey, chosen.digest, platform, call, depth + 1);
      return { ...inner, indexDigest: digest, platform: chosen.platform };
    }
    const config = m.manifest.config;
    if (!CACHEABLE_CONFIG_TYPES.has(config.mediaType)) {
      throw new RegistryError('INVALID_MANIFEST', `${registry}: expected an image config, got "${config.mediaType.slice(0, 100)}" (not a container image)`, { registry });
    }
    const blob = await this.client.getBlob(repo, config.digest, { ...call, expectedSize: config.size });
    const cfg = parseImageConfig(blob, registry);
    const imagePlatform = sharedPlatform(cfg.os, cfg.architecture, cfg.variant);
    const compressedSize = m.manifest.layers.reduce((sum, layer) => sum + layer.size, 0);
    this.digests.set(flat(`${repoKey}@${digest}`), { kind: 'manifest', user: cfg.user, env: cfg.env, labels: cfg.labels, compressedSize, platform: imagePlatform });
    return { digest, platform: imagePlatform, user: cfg.user, env: cfg.env, labels: cfg.labels, compressedSize };
  }
}

function isMiss(known: FactsResult | Miss): known is Miss {
  return 'ref' in known;
}

// Settles with the promise, or with REGISTRY_TIMEOUT when the deadline passes first.
function raceDeadline(p: Promise<FactsResult>, deadline: number, registry: string): Promise<FactsResult> {
  const remaining = deadline - Date.now();
  const timeout = () => fail(new RegistryError('REGISTRY_TIMEOUT', `${registry}: no answer before the deadline`, { registry }));
  if (remaining <= 0) return Promise.race([p, Promise.resolve(timeout())]);
  return settleBy(p, deadline, timeout);
}

