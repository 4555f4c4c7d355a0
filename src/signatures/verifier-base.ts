// What the signature and the attestation verifier share: settings and limits, metrics, the discovery flights, the
// resolver, target settling with compiled authorities, and the timing of each verification.

import type { Logger } from 'pino';
import type { RegistryClient } from '../images/client.js';
import { ImageResolver } from '../images/resolver.js';
import { compiledFor } from './authority.js';
import { DEFAULT_LIMITS, type DiscoveryLimits } from './discover.js';
import { SharedDiscoveries } from './flights.js';
import { createSignatureMetrics, type SignatureMetrics } from './metrics.js';
import type { SignedImagesParams } from './params.js';
import { knownTarget, needOf, settleTarget, type Early, type Target, type TargetDeps } from './target.js';
import type { CacheHits } from '../engine/facts.js';
import type { SignatureVerifierDeps, SignatureVerifierOptions, VerifyOptions } from './verifier.js';

/** What a peek answers: the fact, the counting of the cache hits it took, and (once used) the recording of both. */
export interface Peeked<F> {
  readonly fact: F;
  readonly count?: () => void;
  /** records the answer's metrics; made on its first use and kept with it (a kept answer is recorded at the latency
   * of the peek that first answered it: microseconds, the first bucket either way) */
  record?: () => void;
}

export const VERIFIER_DEFAULTS = { verifiedTtlMs: 3_600_000, unverifiedTtlMs: 30_000, tagTtlMs: 30_000, timeoutMs: 5_000, maxEntries: 10_000 };

export abstract class VerifierBase<F extends { readonly status: 'verified' | 'unverified' | 'error' | 'unavailable' }> {
  protected readonly client: RegistryClient;
  protected readonly logger: Logger | undefined;
  protected readonly metrics: SignatureMetrics;
  protected readonly opts: typeof VERIFIER_DEFAULTS;
  protected readonly limits: DiscoveryLimits;
  protected readonly resolver: ImageResolver;
  protected readonly flights: SharedDiscoveries;
  protected closed = false;
  private readonly kind: 'signature' | 'attestation';

  constructor(options: SignatureVerifierOptions, deps: SignatureVerifierDeps, kind: 'signature' | 'attestation') {
    this.kind = kind;
    this.client = deps.client;
    this.logger = deps.logger?.child({ component: `${kind}s` });
    this.metrics = createSignatureMetrics(deps.metrics, kind);
    this.opts = { ...VERIFIER_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([k, v]) => k in VERIFIER_DEFAULTS && typeof v === 'number')) };
    this.limits = { ...DEFAULT_LIMITS, ...(options.limits ?? {}) };
    this.flights = new SharedDiscoveries((hit) => this.metrics.cache('inflight', hit));
    this.resolver = deps.resolver ?? new ImageResolver(this.client, { tagTtlMs: this.opts.tagTtlMs, maxEntries: this.opts.maxEntries, observe: (c, hit) => c === 'tag' && this.metrics.cache('tag', hit) });
  }

  // Runs one verification and records its result and latency.
  protected async timed(run: () => Promise<F>): Promise<F> {
    const started = performance.now();
    const result = await run();
    this.metrics.result(result.status, (performance.now() - started) / 1000);
    return result;
  }

  // The fact of a peek's answer (from cached verdicts, no registry round, no timer) begun at `started`: its metrics,
  // and `count`'s cache hits, go to `hits` for the caller to record when it uses the answer.
  protected peeked(hits: CacheHits, started: number, answer: Peeked<F> | undefined): F | undefined {
    if (!answer) return undefined;
    if (!answer.record) {
      const seconds = (performance.now() - started) / 1000;
      answer.record = () => {
        answer.count?.();
        this.metrics.result(answer.fact.status, seconds);
      };
    }
    hits.push(answer.record);
    return answer.fact;
  }

  // Whether the cached verdicts (by authority name) leave the answer open: too few verified, and some authority not yet
  // tried.
  protected undecided(t: Target, cached: ReadonlyMap<string, { readonly ok: boolean }>): boolean {
    let ok = 0;
    for (const r of cached.values()) if (r.ok) ok++;
    return ok < needOf(t) && cached.size < t.authorities.length;
  }

  // Counts the outcome cache's hit or miss for each of the target's authorities.
  protected countOutcomes(t: Target, cached: ReadonlyMap<string, unknown>): void {
    for (const a of t.authorities) this.metrics.cache('outcome', cached.has(a.name));
  }

  private targetDeps(): TargetDeps {
    const compiled = (p: SignedImagesParams) => compiledFor(p, (problem) => this.logger?.error({ problem }, `${this.kind} configuration problem`));
    return { compiled, resolver: this.resolver, timeoutMs: this.opts.timeoutMs, closed: this.closed };
  }

  // The target of one verification, or the early answer.
  protected target(image: string, params: SignedImagesParams, opts: VerifyOptions): Promise<Target | Early> {
    return settleTarget(image, params, opts, this.targetDeps(), this.kind);
  }

  // The target when its digest is known without the resolver, or the early answer; else undefined.
  protected knownTarget(image: string, params: SignedImagesParams, opts: VerifyOptions): Target | Early | undefined {
    return knownTarget(image, params, opts, this.targetDeps(), this.kind);
  }
}
