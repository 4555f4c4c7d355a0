// Registry client for the OCI distribution spec / Docker Registry API v2: resolve, manifests, blobs,
// tags, referrers. Every call takes a deadline; retries with backoff stay inside it.

import { STATUS_CODES } from 'node:http';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { TokenStore, USER_AGENT, basicHeader, parseChallenges, type Challenge } from './auth.js';
import { credentialId, findCredential, type Credential, type DockerConfigJson } from './credentials.js';
import { digestOf, isDigest, sha256Digest, verifyDigest } from './digest.js';
import { RegistryError } from './errors.js';
import { createDispatcher, send, type HttpObserver, type HttpResponse } from './http.js';
import { KeyedLimiter, sleep } from './limiter.js';
import { MANIFEST_ACCEPT, MEDIA_TYPES, parseJsonObject, parseManifest, type Descriptor, type Manifest } from './manifest.js';

export interface RepoRef {
  registry: string;
  repository: string;
}

export interface CallOptions {
  /** epoch ms; the call is aborted then */
  deadline: number;
  /** extra credentials for this call (e.g. from imagePullSecrets); tried before the client's docker config */
  credentials?: DockerConfigJson;
  signal?: AbortSignal;
}

export interface RegistryClientOptions {
  insecure?: string[];
  caFile?: string;
  dockerConfig?: DockerConfigJson;
  concurrencyPerRegistry?: number;
  maxResponseBytes?: number;
  /** tries per request for transient failures (connection errors, 5xx, 429) */
  maxTries?: number;
  /** first backoff in ms, doubled per try */
  backoffMs?: number;
  dispatcher?: Dispatcher;
  logger?: Logger;
  /** called once per HTTP exchange, with the registry and the status (or 'error') */
  observe?: HttpObserver;
}

export interface ResolvedDescriptor {
  digest: string;
  mediaType: string;
  size: number;
}

export interface FetchedManifest extends ResolvedDescriptor {
  bytes: Buffer;
  manifest: Manifest;
}

const API_HOSTS: Record<string, string> = { 'docker.io': 'registry-1.docker.io' };
const RETRY_STATUSES = new Set([500, 502, 503, 504]);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const REPO_RE = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*$/;

/** pages of a paged referrers answer that are read (OCI 1.1 lets registries page it with Link headers) */
const REFERRER_PAGES = 8;

interface Attempt {
  method: 'GET' | 'HEAD';
  path: string;
  accept?: string;
  maxBytes: number;
  /** answer 404 instead of throwing */
  allow404?: boolean;
}

function statusText(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? ''}`.trim();
}

// Retry-After in ms (delta-seconds or HTTP date), or undefined.
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const t = Date.parse(value);
  return Number.isFinite(t) ? Math.max(0, t - now) : undefined;
}

export class RegistryClient {
  readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly insecure: Set<string>;
  private readonly limiter: KeyedLimiter;
  private readonly tokens: TokenStore;
  private readonly maxBytes: number;
  private readonly maxTries: number;
  private readonly backoffMs: number;
  private readonly dockerConfig: DockerConfigJson | undefined;
  private readonly observe: HttpObserver | undefined;
  /** manifest GETs by tag in flight: resolve() of the same tag takes their digest instead of sending a HEAD */
  private readonly tagGets = new Map<string, Promise<FetchedManifest>>();
  private readonly logger: Logger | undefined;

  constructor(opts: RegistryClientOptions = {}) {
    this.ownsDispatcher = !opts.dispatcher;
    this.dispatcher = opts.dispatcher ?? createDispatcher({ ...(opts.caFile ? { caFile: opts.caFile } : {}), connections: opts.concurrencyPerRegistry ?? 16 });
    this.insecure = new Set((opts.insecure ?? []).map((h) => h.toLowerCase()));
    this.limiter = new KeyedLimiter(opts.concurrencyPerRegistry ?? 16);
    this.observe = opts.observe;
    this.tokens = new TokenStore(this.dispatcher, this.observe);
    this.maxBytes = opts.maxResponseBytes ?? 4 * 1024 * 1024;
    this.maxTries = Math.max(1, opts.maxTries ?? 3);
    this.backoffMs = opts.backoffMs ?? 100;
    this.dockerConfig = opts.dockerConfig;
    this.logger = opts.logger;
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.destroy();
  }

  // The credential used for a repository: per-call credentials first, then the docker config.
  credentialFor(repo: RepoRef, extra?: DockerConfigJson): Credential | undefined {
    return findCredential(extra, repo.registry, repo.repository) ?? findCredential(this.dockerConfig, repo.registry, repo.repository);
  }

  // Who a request is made as, for cache and in-flight keys: the credential's id, or "invalid" when none can be chosen.
  credentialKey(repo: RepoRef, extra?: DockerConfigJson): string {
    try {
      return credentialId(this.credentialFor(repo, extra));
    } catch {
      return 'invalid';
    }
  }

  baseUrl(registry: string): string {
    const scheme = this.insecure.has(registry.toLowerCase()) ? 'http' : 'https';
    return `${scheme}://${API_HOSTS[registry] ?? registry}`;
  }

  // Resolves a tag (or digest) to the descriptor of what it names, with HEAD; falls back to GET.
  async resolve(repo: RepoRef, reference: string, opts: CallOptions): Promise<ResolvedDescriptor> {
    checkRepo(repo, reference);
    const joined = isDigest(reference) ? undefined : this.tagGets.get(this.tagKey(repo, reference, opts));
    if (joined) {
      const m = await joined.catch(() => undefined); // a failed GET: ask again with our own HEAD
      if (m) return { digest: m.digest, mediaType: m.mediaType, size: m.size };
    }
    const res = await this.call(repo, opts, { method: 'HEAD', path: `manifests/${reference}`, accept: MANIFEST_ACCEPT, maxBytes: 0 });
    const digest = res.headers['docker-content-digest'];
    const mediaType = res.headers['content-type']?.split(';')[0]?.trim();
    const size = Number(res.headers['content-length']);
    if (digest !== undefined && isDigest(digest) && mediaType && Number.isSafeInteger(size)) {
      if (isDigest(reference) && digest !== reference) {
        throw new RegistryError('DIGEST_MISMATCH', `${repo.registry}: asked for ${reference}, registry answered ${digest}`, { registry: repo.registry });
      }
      return { digest, mediaType, size };
    }
    const m = await this.getManifest(repo, reference, opts);
    return { digest: m.digest, mediaType: m.mediaType, size: m.size };
  }

  // Fetches a manifest or index by tag or digest, verifies its digest, and parses it.
  async getManifest(repo: RepoRef, reference: string, opts: CallOptions, accept = MANIFEST_ACCEPT): Promise<FetchedManifest> {
    checkRepo(repo, reference);
    if (isDigest(reference) || accept !== MANIFEST_ACCEPT) return this.fetchManifest(repo, reference, opts, accept);
    const key = this.tagKey(repo, reference, opts);
    const flight = this.fetchManifest(repo, reference, opts, accept);
    this.tagGets.set(key, flight);
    try {
      return await flight;
    } finally {
      if (this.tagGets.get(key) === flight) this.tagGets.delete(key);
    }
  }

  // Who may share a tag look-up: the same repository, tag and credential.
  private tagKey(repo: RepoRef, tag: string, opts: CallOptions): string {
    return `${repo.registry}/${repo.repository}:${tag}|${this.credentialKey(repo, opts.credentials)}`;
  }

  private async fetchManifest(repo: RepoRef, reference: string, opts: CallOptions, accept: string): Promise<FetchedManifest> {
    const res = await this.call(repo, opts, { method: 'GET', path: `manifests/${reference}`, accept, maxBytes: this.maxBytes });
    const registry = repo.registry;
    let digest: string;
    if (isDigest(reference)) {
      verifyDigest(res.body, reference, registry, 'manifest');
      digest = reference;
    } else {
      const header = res.headers['docker-content-digest'];
      digest = sha256Digest(res.body);
      if (header !== undefined && isDigest(header) && digestOf(res.body, header) !== header) {
        throw new RegistryError('DIGEST_MISMATCH', `${registry}: manifest ${reference} expected digest ${header}, got ${digestOf(res.body, header)}`, { registry });
      }
    }
    const manifest = parseManifest(res.body, res.headers['content-type'], registry);
    return { digest, mediaType: manifest.mediaType, size: res.body.length, bytes: res.body, manifest };
  }

  // Fetches a blob by digest and verifies it; maxBytes defaults to the client's response limit.
  async getBlob(repo: RepoRef, digest: string, opts: CallOptions & { maxBytes?: number; expectedSize?: number }): Promise<Buffer> {
    checkRepo(repo, digest);
    if (!isDigest(digest)) throw new RegistryError('INVALID_MANIFEST', `${repo.registry}: expected a blob digest, got "${digest.slice(0, 80)}"`, { registry: repo.registry });
    const limit = opts.maxBytes ?? this.maxBytes;
    if (opts.expectedSize !== undefined && opts.expectedSize > limit) {
      throw new RegistryError('RESPONSE_TOO_LARGE', `${repo.registry}: blob ${digest} is ${opts.expectedSize} bytes, limit ${limit}`, { registry: repo.registry });
    }
    const res = await this.call(repo, opts, { method: 'GET', path: `blobs/${digest}`, maxBytes: limit });
    verifyDigest(res.body, digest, repo.registry, 'blob');
    return res.body;
  }

  // Lists a repository's tags, following Link pagination up to maxTags.
  async listTags(repo: RepoRef, opts: CallOptions & { maxTags?: number }): Promise<string[]> {
    checkRepo(repo);
    const max = opts.maxTags ?? 10_000;
    const tags: string[] = [];
    let path = `tags/list?n=${Math.min(max, 1000)}`;
    for (let page = 0; page < 100 && tags.length < max; page++) {
      const res = await this.call(repo, opts, { method: 'GET', path, maxBytes: this.maxBytes });
      const doc = parseJsonObject(res.body, 'INVALID_MANIFEST', repo.registry, 'a tag list');
      if (doc.tags !== null && doc.tags !== undefined) {
        if (!Array.isArray(doc.tags)) throw new RegistryError('INVALID_MANIFEST', `${repo.registry}: expected "tags" to be an array`, { registry: repo.registry });
        for (const t of doc.tags) if (typeof t === 'string' && TAG_RE.test(t)) tags.push(t);
      }
      const next = this.nextPage(repo, res);
      if (next === undefined) break;
      path = next;
    }
    return tags.slice(0, max);
  }

  // The path (below /v2/<repository>/) of the page a `Link: <...>; rel="next"` header names, if it stays in the
  // repository; it is asked of this registry whatever host the link names.
  private nextPage(repo: RepoRef, res: HttpResponse): string | undefined {
    const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.link ?? '');
    if (!next) return undefined;
    const url = new URL(next[1] as string, `${this.baseUrl(repo.registry)}/v2/${repo.repository}/`);
    const prefix = `/v2/${repo.repository}/`;
    if (!url.pathname.startsWith(prefix)) return undefined;
    return `${url.pathname.slice(prefix.length)}${url.search}`;
  }

  // Manifests that refer to `digest` (OCI 1.1 referrers API, falling back to the sha256-<hex> tag schema).
  async referrers(repo: RepoRef, digest: string, artifactType: string | undefined, opts: CallOptions): Promise<Descriptor[]> {
    checkRepo(repo, digest);
    if (!isDigest(digest)) throw new RegistryError('INVALID_MANIFEST', `${repo.registry}: expected a digest, got "${digest.slice(0, 80)}"`, { registry: repo.registry });
    const q = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
    // the referrers tag (the fallback of registries without the API) is asked for at once: one round trip, not two
    const tag = digest.replace(':', '-');
    const tagged = this.call(repo, opts, { method: 'GET', path: `manifests/${tag}`, accept: MEDIA_TYPES.ociIndex, maxBytes: this.maxBytes, allow404: true });
    tagged.catch(() => {}); // awaited below only when the API is missing
    const res = await this.call(repo, opts, { method: 'GET', path: `referrers/${digest}${q}`, accept: MEDIA_TYPES.ociIndex, maxBytes: this.maxBytes, allow404: true });
    let descriptors: Descriptor[];
    if (res.status === 404) {
      const fallback = await tagged;
      if (fallback.status === 404) return [];
      const m = parseManifest(fallback.body, fallback.headers['content-type'] ?? MEDIA_TYPES.ociIndex, repo.registry);
      if (m.kind !== 'index') throw new RegistryError('INVALID_MANIFEST', `${repo.registry}: expected an index at referrers tag ${tag}, got a manifest`, { registry: repo.registry });
      descriptors = m.manifests;
    } else {
      descriptors = [];
      // the API may page its answer (Link: rel="next"); at most REFERRER_PAGES pages, each a fresh index
      for (let page = 1, current = res; ; page++) {
        const m = parseManifest(current.body, MEDIA_TYPES.ociIndex, repo.registry);
        if (m.kind !== 'index') throw new RegistryError('INVALID_MANIFEST', `${repo.registry}: expected an index from the referrers API`, { registry: repo.registry });
        descriptors.push(...m.manifests);
        const next = page < REFERRER_PAGES ? this.nextPage(repo, current) : undefined;
        if (next === undefined || !next.startsWith(`referrers/${digest}`)) break;
        current = await this.call(repo, opts, { method: 'GET', path: next, accept: MEDIA_TYPES.ociIndex, maxBytes: this.maxBytes });
      }
    }
    return artifactType ? descriptors.filter((d) => d.artifactType === artifactType) : descriptors;
  }

  // One logical request: auth, per-registry limit, retries on transient failures within the deadline.
  private async call(repo: RepoRef, opts: CallOptions, a: Attempt): Promise<HttpResponse> {
    const { registry } = repo;
    const remaining = opts.deadline - Date.now();
    if (remaining <= 0) throw new RegistryError('REGISTRY_TIMEOUT', `${registry}: deadline passed before the request`, { registry });
    const timeout = AbortSignal.timeout(remaining);
    const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
    const credential = this.credentialFor(repo, opts.credentials);
    const scope = `repository:${repo.repository}:pull`;
    const url = new URL(`${this.baseUrl(registry)}/v2/${repo.repository}/${a.path}`);
    let tries = 0;
    let authRetried = false;
    let lastTransient: RegistryError | undefined;
    for (;;) {
      tries++;
      let res: HttpResponse;
      try {
        const authorization = await this.authorizationFor(registry, scope, credential, signal);
        const headers: Record<string, string> = { 'user-agent': USER_AGENT };
        if (a.accept) headers.accept = a.accept;
        if (authorization) headers.authorization = authorization;
        res = await this.limiter.run(registry, signal, () =>
          send(this.dispatcher, { method: a.method, url, headers, registry, signal, maxBytes: a.maxBytes }, this.observe),
        );
      } catch (err) {
        const e = err instanceof RegistryError ? err : signal.aborted ? timeoutError(registry, tries, lastTransient) : toUnreachable(err, registry);
        if (e.code === 'REGISTRY_TIMEOUT' && lastTransient) throw timeoutError(registry, tries, lastTransient);
        if (e.code !== 'REGISTRY_UNREACHABLE' || !e.transient || tries >= this.maxTries) throw withTries(e, tries);
        lastTransient = e;
        await this.backoff(registry, tries, undefined, signal, e, opts.deadline);
        continue;
      }
      const status = res.status;
      if (status >= 200 && status < 300) return res;
      if (status === 404 && a.allow404) return res;
      if (status === 401 && !authRetried) {
        const challenge = pickChallenge(res.headers['www-authenticate']);
        if (challenge && (challenge.scheme === 'bearer' || credential)) {
          authRetried = true;
          tries--;
          const known = this.tokens.knownChallenge(registry);
          if (known && challenge.scheme === 'bearer') {
            this.tokens.invalidate({ registry, challenge: known, scope, credential, signal, maxBytes: this.maxBytes });
          }
          this.tokens.rememberChallenge(registry, challenge);
          continue;
        }
      }
      if (status === 401 || status === 403) {
        throw new RegistryError('REGISTRY_UNAUTHORIZED', `${registry}: ${statusText(status)} for ${repo.repository}${credential ? '' : ' (no credentials)'}`, { registry, status, tries });
      }
      if (status === 404) {
        throw new RegistryError('REGISTRY_NOT_FOUND', `${registry}: ${repo.repository} ${a.path.split('?')[0]} not found`, { registry, status, tries });
      }
      if (status === 429 || RETRY_STATUSES.has(status)) {
        const code = status === 429 ? 'REGISTRY_RATE_LIMITED' : 'REGISTRY_HTTP_STATUS';
        const e = new RegistryError(code, `${registry}: ${statusText(status)} after ${tries} ${tries === 1 ? 'try' : 'tries'}`, { registry, status, tries });
        if (tries >= this.maxTries) throw e;
        lastTransient = e;
        const wait = retryAfterMs(res.headers['retry-after']);
        await this.backoff(registry, tries, wait, signal, e, opts.deadline);
        continue;
      }
      throw new RegistryError('REGISTRY_HTTP_STATUS', `${registry}: ${statusText(status)} for ${repo.repository} ${a.path.split('?')[0]}`, { registry, status, tries });
    }
  }

  // Waits before the next try; gives up with `last` when the wait would pass the deadline.
  private async backoff(registry: string, tries: number, retryAfter: number | undefined, signal: AbortSignal, last: RegistryError, deadline: number): Promise<void> {
    const base = this.backoffMs * 2 ** (tries - 1);
    const wait = retryAfter !== undefined ? Math.max(retryAfter, 0) : Math.min(base + Math.random() * base * 0.5, 5000);
    if (Date.now() + wait >= deadline) throw last;
    this.logger?.debug({ registry, tries, waitMs: Math.round(wait), code: last.code }, 'registry request failed, retrying');
    try {
      await sleep(wait, signal);
    } catch {
      throw last;
    }
  }

  // Authorization header for a request: a cached/fetched bearer token for a known bearer challenge, Basic when known, else none.
  private async authorizationFor(registry: string, scope: string, credential: Credential | undefined, signal: AbortSignal): Promise<string | undefined> {
    const challenge = this.tokens.knownChallenge(registry);
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') {
      if (credential?.kind === 'basic') return basicHeader(credential.username, credential.password);
      if (credential?.kind === 'identityToken') return basicHeader(credential.username, credential.token);
      return undefined;
    }
    const token = await this.tokens.token({ registry, challenge, scope, credential, signal, maxBytes: this.maxBytes });
    return `Bearer ${token}`;
  }
}

function pickChallenge(header: string | undefined): Challenge | undefined {
  const all = parseChallenges(header);
  return all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic');
}

function withTries(e: RegistryError, tries: number): RegistryError {
  if (e.code !== 'REGISTRY_UNREACHABLE' || tries <= 1) return e;
  return new RegistryError(e.code, `${e.message} after ${tries} tries`, { ...(e.registry ? { registry: e.registry } : {}), tries, transient: e.transient, cause: e });
}

function timeoutError(registry: string, tries: number, last: RegistryError | undefined): RegistryError {
  const why = last ? ` (last: ${last.message.replace(`${registry}: `, '')})` : '';
  return new RegistryError('REGISTRY_TIMEOUT', `${registry}: deadline passed after ${tries} ${tries === 1 ? 'try' : 'tries'}${why}`, { registry, tries });
}

function toUnreachable(err: unknown, registry: string): RegistryError {
  return new RegistryError('REGISTRY_UNREACHABLE', `${registry}: ${err instanceof Error ? err.message.slice(0, 200) : 'network error'}`, { registry, cause: err });
}

// Checks repository and reference syntax so nothing odd lands in a URL path.
function checkRepo(repo: RepoRef, reference?: string): void {
  if (!REPO_RE.test(repo.repository) || repo.repository.length > 255) {
    throw new RegistryError('INVALID_REFERENCE', `expected a repository name, got "${repo.repository.slice(0, 100)}"`, { registry: repo.registry });
  }
  if (reference !== undefined && !isDigest(reference) && !TAG_RE.test(reference)) {
    throw new RegistryError('INVALID_REFERENCE', `expected a tag or digest, got "${reference.slice(0, 100)}"`, { registry: repo.registry });
  }
}
