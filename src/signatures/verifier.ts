// The signature verifier the engine's fact gatherer calls: verify a digest (the one the shared resolver named for the
// image) against the authorities of the first matching rule, and answer a SignatureFact.
// Outcomes are cached by (digest, authority); concurrent look-ups of one digest share one registry round.

import { entryBytes } from '../images/cache-size.js';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { SignatureFact } from '../engine/types.js';
import type { CallOptions, RegistryClient, RepoRef } from '../images/client.js';
import type { DockerConfigJson } from '../images/credentials.js';
import { toRegistryError, type RegistryError } from '../images/errors.js';
import type { Platform } from '../images/platform.js';
import type { ImageResolver } from '../images/resolver.js';
import type { Authority, Outcome } from './authority.js';
import type { Candidate } from './candidates.js';
import { discoverSignatures, sigTag, type Discovery, type DiscoveryLimits } from './discover.js';
import type { ImageRule, SignedImagesParams } from './params.js';
import { isEarly, withDeadline } from './target.js';
import { VerifierBase } from './verifier-base.js';

export interface SignatureVerifierOptions {
  /** how long a verified (digest, authority) outcome is reused (ms, default 1 h) */
  verifiedTtlMs?: number;
  /** how long a negative outcome is reused (ms, default 30 s): a signature pushed later counts after this */
  unverifiedTtlMs?: number;
  /** without a shared resolver: how long a tag -> digest resolution is reused (ms, default 30 s; 0 = every call) */
  tagTtlMs?: number;
  /** longest one verification may take whatever the caller's deadline (ms, default 5 s) */
  timeoutMs?: number;
  maxEntries?: number;
  limits?: Partial<DiscoveryLimits>;
}

export interface SignatureVerifierDeps {
  /** the registry client shared with the image facts source */
  client: RegistryClient;
  /** the tag resolver shared with image facts and pinning (built over the client when left out) */
  resolver?: ImageResolver;
  metrics?: Registry;
  logger?: Logger;
}

export interface VerifyOptions {
  /** epoch ms by which the answer is needed */
  deadline: number;
  /** accepted for symmetry with image facts; signatures are checked on the digest the reference names (the index for multi-arch images) */
  platform?: Platform;
  /** extra registry credentials (imagePullSecrets) */
  credentials?: DockerConfigJson;
  /** the digest the tag was resolved to for this review; verified instead of asking the resolver */
  digest?: string;
}

export interface SignatureVerifier {
  verify(image: string, params: SignedImagesParams, opts: VerifyOptions): Promise<SignatureFact>;
  close(): Promise<void>;
}

interface CachedOutcome {
  ok: boolean;
  notes: string[];
  found: number;
}


/** bytes the verification outcomes may hold */
export const OUTCOME_CACHE_BYTES = 8 * 2 ** 20;

const fact = (status: SignatureFact['status'], message: string): SignatureFact => ({ status, message });

// Creates the verifier; the client is not closed by it.
export function createSignatureVerifier(options: SignatureVerifierOptions, deps: SignatureVerifierDeps): SignatureVerifier {
  return new Verifier(options, deps);
}

class Verifier extends VerifierBase<SignatureFact> implements SignatureVerifier {
  private readonly outcomes: LRUCache<string, CachedOutcome>;

  constructor(options: SignatureVerifierOptions, deps: SignatureVerifierDeps) {
    super(options, deps, 'signature');
    // bounded in bytes too: an outcome's notes carry messages, and keys carry image names
    this.outcomes = new LRUCache<string, CachedOutcome>({ max: this.opts.maxEntries, maxSize: OUTCOME_CACHE_BYTES, sizeCalculation: (v, k) => entryBytes(k, ...v.notes), ttl: Math.max(1, this.opts.verifiedTtlMs) });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.outcomes.clear();
  }

  verify(image: string, params: SignedImagesParams, opts: VerifyOptions): Promise<SignatureFact> {
    return this.timed(() => this.verifyInner(image, params, opts));
  }

  private async verifyInner(image: string, params: SignedImagesParams, opts: VerifyOptions): Promise<SignatureFact> {
    const t = await this.target(image, params, opts);
    if (isEarly(t)) return fact(t.status, t.message);
    try {
      const decided = await withDeadline(this.decide(t.repo, t.digest, t.rule, [...t.authorities], t.call, t.display, t.tagNote), t.deadline, t.ref.registry);
      return decided.status === 'verified' && !t.ref.digest ? { ...decided, verifiedAtTag: t.ref.tag ?? 'latest' } : decided;
    } catch (err) {
      const e = toRegistryError(err, 'REGISTRY_UNREACHABLE', t.ref.registry);
      return fact('error', `cannot check the signatures of ${t.display}: ${e.message}${t.tagNote}`);
    }
  }

  // Finds the signatures of one digest; concurrent callers share one discovery.
  private discover(repo: RepoRef, digest: string, call: CallOptions): Promise<Discovery> {
    const key = `${repo.registry}/${repo.repository}@${digest}|${this.client.credentialKey(repo, call.credentials)}`;
    return this.flights.run(key, call.deadline, () => discoverSignatures(this.client, repo, digest, call, this.limits));
  }

  private async decide(repo: RepoRef, digest: string, rule: ImageRule, authorities: Authority[], call: CallOptions, display: string, tagNote: string): Promise<SignatureFact> {
    const need = Math.min(rule.count ?? 1, authorities.length);
    const keyOf = (a: Authority) => `${repo.registry}/${repo.repository}@${digest}|${a.fingerprint}|${rule.matchReference === true ? 'ref' : ''}`;
    const results = new Map<string, CachedOutcome>();
    for (const a of authorities) {
      const hit = this.outcomes.get(keyOf(a));
      this.metrics.cache('outcome', hit !== undefined);
      if (hit) results.set(a.name, hit);
    }
    const okCount = () => [...results.values()].filter((r) => r.ok).length;
    let discovery: Discovery | undefined;
    if (okCount() < need && results.size < authorities.length) {
      discovery = await this.discover(repo, digest, call);
      const cacheable = discovery.errors.length === 0;
      for (const a of authorities) {
        if (results.has(a.name)) continue;
        const r = evaluate(a, discovery.candidates, rule, repo);
        results.set(a.name, r);
        if (!this.closed && (r.ok || cacheable)) this.outcomes.set(keyOf(a), r, { ttl: r.ok ? this.opts.verifiedTtlMs : this.opts.unverifiedTtlMs });
      }
      for (const e of discovery.errors) this.logger?.warn({ registry: repo.registry, repository: repo.repository, code: e.code, err: e.message }, 'signature look-up failed');
    }
    const verified = authorities.filter((a) => results.get(a.name)?.ok);
    // two authority names for the same key or identity count once
    if (new Set(verified.map((a) => a.fingerprint)).size >= need) {
      const by = verified.map((a) => `"${a.name}" (${results.get(a.name)?.notes[0] ?? 'signed'})`).join(', ');
      return fact('verified', `${display} is signed by ${verified.length === 1 ? 'authority' : 'authorities'} ${by}${tagNote}`);
    }
    if (discovery && discovery.errors.length > 0) {
      const e = discovery.errors[0] as RegistryError;
      return fact('error', `cannot check the signatures of ${display}: ${e.message}${tagNote}`);
    }
    return fact('unverified', unverifiedMessage(display, digest, authorities, results, need, verified) + tagNote);
  }
}

// Tries every candidate against one authority; the first that verifies wins.
function evaluate(a: Authority, candidates: readonly Candidate[], rule: ImageRule, repo: RepoRef): CachedOutcome {
  const notes: string[] = [];
  let found = 0;
  for (const c of candidates) {
    found++;
    let o: Outcome;
    if (c.defect !== undefined || !c.entity) o = { ok: false, kind: 'defect', note: c.defect ?? 'unusable signature' };
    else o = a.check(c);
    if (o.ok && rule.matchReference === true && c.source === 'sig-tag' && c.reference !== `${repo.registry}/${repo.repository}`) {
      o = { ok: false, kind: 'reference', note: `signed for ${JSON.stringify((c.reference ?? '').slice(0, 200))}, not ${repo.registry}/${repo.repository}` };
    }
    if (o.ok) return { ok: true, notes: [o.note], found };
    notes.push(o.note);
  }
  return { ok: false, notes, found };
}

function unverifiedMessage(display: string, digest: string, authorities: Authority[], results: Map<string, CachedOutcome>, need: number, verified: Authority[]): string {
  const found = Math.max(0, ...[...results.values()].map((r) => r.found));
  if (found === 0) return `${display} has no signature (looked for OCI referrers and the ${sigTag(digest).slice(0, 19)}….sig tag)`;
  const failing = authorities.filter((a) => !results.get(a.name)?.ok);
  const names = failing.map((a) => `"${a.name}"`).join(', ');
  const who = failing.length === 1 ? `authority ${names}` : `authorities ${names}`;
  const notes = [...new Set(failing.flatMap((a) => results.get(a.name)?.notes ?? []))];
  const shown = notes.slice(0, 3).join('; ') + (notes.length > 3 ? `; and ${notes.length - 3} more` : '');
  const countNote = need > 1 || verified.length > 0 ? `need ${need} of ${authorities.length}, verified ${verified.length}; ` : '';
  return `${display} has no signature from ${who} (${countNote}found ${found}: ${shown})`;
}
