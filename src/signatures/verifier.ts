// The signature verifier the engine's fact gatherer calls: verify a digest (the one the shared resolver named for the
// image) against the authorities of the first matching rule, and answer a SignatureFact.
// Outcomes are cached by (digest, authority); concurrent look-ups of one digest share one registry round.

import { boundedCache, entryBytes, flat } from '../images/cache-size.js';
import type { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { SignatureCode, SignatureFact } from '../engine/types.js';
import type { CacheHits } from '../engine/facts.js';
import { KeptAnswers } from '../images/kept-answers.js';
import type { CallOptions, RegistryClient, RepoRef } from '../images/client.js';
import type { DockerConfigJson } from '../images/credentials.js';
import { toRegistryError, type RegistryError } from '../images/errors.js';
import type { Platform } from '../images/platform.js';
import type { ImageResolver } from '../images/resolver.js';
import type { Authority, FailureKind, Outcome } from './authority.js';
import type { Candidate } from './candidates.js';
import { discoverSignatures, type Discovery, type DiscoveryLimits } from './discover.js';
import type { ImageRule, SignedImagesParams } from './params.js';
import type { DefectCode } from './statement.js';
import { isEarly, needOf, withDeadline, type Early, type Target } from './target.js';
import { VerifierBase, type Peeked } from './verifier-base.js';

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
  /**
   * What verify would answer from cached verdicts alone, at the digest opts names (or the reference's own); undefined
   * when it would need the resolver or a registry round. The metrics verify counts go to `hits`.
   */
  peek?(image: string, params: SignedImagesParams, opts: VerifyOptions, hits: CacheHits): SignatureFact | undefined;
  close(): Promise<void>;
}

interface CachedOutcome {
  ok: boolean;
  /** VERIFIED, or the most telling code among the signatures found */
  code: SignatureCode;
  /** what the signature that verified, or those behind the code, show */
  notes: string[];
  found: number;
}

/** bytes the verification outcomes may hold */
export const OUTCOME_CACHE_BYTES = 8 * 2 ** 20;

/** most telling first: an altered signature, a valid one for another repository or from another signer, one that
 * does not verify with the key, no log entry, another image's, an attestation, unreadable ones */
const PRIORITY: readonly SignatureCode[] = ['SIGNATURE_INVALID', 'WRONG_REFERENCE', 'UNTRUSTED_SIGNER', 'KEY_MISMATCH', 'TLOG_MISSING', 'OTHER_DIGEST', 'WRONG_PREDICATE_TYPE', 'MALFORMED'];

const OUTCOME_CODES: Readonly<Record<FailureKind, SignatureCode>> = {
  'other-key': 'UNTRUSTED_SIGNER',
  'other-identity': 'UNTRUSTED_SIGNER',
  'no-certificate': 'UNTRUSTED_SIGNER',
  mismatch: 'KEY_MISMATCH',
  invalid: 'SIGNATURE_INVALID',
  'no-tlog': 'TLOG_MISSING',
};

const DEFECT_CODES: Readonly<Record<DefectCode, SignatureCode>> = { 'other-digest': 'OTHER_DIGEST', 'not-wanted': 'WRONG_PREDICATE_TYPE', malformed: 'MALFORMED' };

type Detail = Omit<SignatureFact, 'status' | 'code'>;

const fact = (status: SignatureFact['status'], code: SignatureCode, detail: Detail = {}): SignatureFact => ({ status, code, ...detail });

// Creates the verifier; the client is not closed by it.
export function createSignatureVerifier(options: SignatureVerifierOptions, deps: SignatureVerifierDeps): SignatureVerifier {
  return new Verifier(options, deps);
}

class Verifier extends VerifierBase<SignatureFact> implements SignatureVerifier {
  private readonly outcomes: LRUCache<string, CachedOutcome>;
  /** facts concluded from cached verdicts, reused while those verdicts are the cache's */
  private readonly concluded: KeptAnswers<Peeked<SignatureFact>, CachedOutcome>;

  constructor(options: SignatureVerifierOptions, deps: SignatureVerifierDeps) {
    super(options, deps, 'signature');
    // bounded in bytes too: an outcome's notes carry messages, and keys carry image names
    this.outcomes = boundedCache<string, CachedOutcome>({ maxEntries: this.opts.maxEntries, maxBytes: OUTCOME_CACHE_BYTES, sizeOf: (v, k) => entryBytes(k, ...v.notes), ttlMs: Math.max(1, this.opts.verifiedTtlMs) });
    this.concluded = new KeptAnswers(this.outcomes);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.outcomes.clear();
    this.concluded.clear();
  }

  verify(image: string, params: SignedImagesParams, opts: VerifyOptions): Promise<SignatureFact> {
    return this.timed(() => this.verifyInner(image, params, opts));
  }

  peek(image: string, params: SignedImagesParams, opts: VerifyOptions, hits: CacheHits): SignatureFact | undefined {
    return this.peeked(hits, performance.now(), this.peekAnswer(image, params, opts));
  }

  // The answer kept for the image at this digest while its verdicts are cached, else one concluded from the cached
  // verdicts (and kept), else undefined.
  private peekAnswer(image: string, params: SignedImagesParams, opts: VerifyOptions): Peeked<SignatureFact> | undefined {
    const digest = opts.digest ?? '';
    const kept = this.closed ? undefined : this.concluded.get(image, digest, params);
    if (kept) return kept;
    const t = this.knownTarget(image, params, opts);
    if (t === undefined) return undefined;
    if (isEarly(t)) return { fact: earlyFact(t) };
    const known = this.cachedOutcomes(t);
    if (this.undecided(t, known)) return undefined;
    const answer = { fact: atTag(t, this.conclude(t, known)), count: () => this.countOutcomes(t, known) };
    const keys = t.authorities.map((a) => this.outcomeKey(t, a));
    this.concluded.set(image, digest, { basis: params, keys, held: t.authorities.map((a) => known.get(a.name)), answer });
    return answer;
  }

  private async verifyInner(image: string, params: SignedImagesParams, opts: VerifyOptions): Promise<SignatureFact> {
    const t = await this.target(image, params, opts);
    if (isEarly(t)) return earlyFact(t);
    const known = this.cachedOutcomes(t);
    this.countOutcomes(t, known);
    // every outcome needed is cached: decided at once, without a registry round or a deadline timer
    if (!this.undecided(t, known)) return atTag(t, this.conclude(t, known));
    try {
      return atTag(t, await withDeadline(this.decide(t, known), t.deadline, t.ref.registry));
    } catch (err) {
      const e = toRegistryError(err, 'REGISTRY_UNREACHABLE', t.ref.registry);
      return fact('error', 'REGISTRY_ERROR', { image: t.display, digest: t.digest, reason: e.message });
    }
  }

  // Finds the signatures of one digest; concurrent callers share one discovery.
  private discover(repo: RepoRef, digest: string, call: CallOptions): Promise<Discovery> {
    const key = `${repo.registry}/${repo.repository}@${digest}|${this.client.credentialKey(repo, call.credentials)}`;
    return this.flights.run(key, call.deadline, () => discoverSignatures(this.client, repo, digest, call, this.limits));
  }

  // The outcome cache's key of one authority's verdict on the target's digest.
  private outcomeKey(t: Target, a: Authority): string {
    return `${t.repo.registry}/${t.repo.repository}@${t.digest}|${a.fingerprint}|${t.rule.matchReference === true ? 'ref' : ''}`;
  }

  // The cached verdicts of the target's authorities, by authority name.
  private cachedOutcomes(t: Target): Map<string, CachedOutcome> {
    const results = new Map<string, CachedOutcome>();
    for (const a of t.authorities) {
      const hit = this.outcomes.get(this.outcomeKey(t, a));
      if (hit) results.set(a.name, hit);
    }
    return results;
  }

  // Finds the signatures and tries the authorities without a cached verdict, then concludes.
  private async decide(t: Target, results: Map<string, CachedOutcome>): Promise<SignatureFact> {
    const { repo, digest, rule, authorities } = t;
    const discovery = await this.discover(repo, digest, t.call);
    const cacheable = discovery.errors.length === 0;
    for (const a of authorities) {
      if (results.has(a.name)) continue;
      const r = evaluate(a, discovery.candidates, rule, repo);
      results.set(a.name, r);
      if (!this.closed && (r.ok || cacheable)) this.outcomes.set(flat(this.outcomeKey(t, a)), r, { ttl: r.ok ? this.opts.verifiedTtlMs : this.opts.unverifiedTtlMs });
    }
    for (const e of discovery.errors) this.logger?.warn({ registry: repo.registry, repository: repo.repository, code: e.code, err: e.message }, 'signature look-up failed');
    return this.conclude(t, results, discovery);
  }

  // The fact the verdicts make: verified by enough distinct signers, a registry error, or why not.
  private conclude(t: Target, results: ReadonlyMap<string, CachedOutcome>, discovery?: Discovery): SignatureFact {
    const { digest, authorities } = t;
    const need = needOf(t);
    const verified = authorities.filter((a) => results.get(a.name)?.ok);
    const base: Detail = { image: t.display, digest, need };
    // two authority names for the same key or identity count once
    const distinct = new Set(verified.map((a) => a.fingerprint)).size;
    if (distinct >= need) {
      return fact('verified', 'VERIFIED', { ...base, authorities: verified.map((a) => a.name), verified: verified.length, evidence: verified.map((a) => results.get(a.name)?.notes[0] ?? 'signed') });
    }
    if (discovery && discovery.errors.length > 0) {
      return fact('error', 'REGISTRY_ERROR', { ...base, reason: (discovery.errors[0] as RegistryError).message });
    }
    if (verified.length === authorities.length) {
      const names = verified.map((a) => `"${a.name}"`).join(', ');
      return fact('unverified', 'CONFIG_INVALID', { ...base, verified: distinct, reason: `the rule needs ${need} distinct signers, and its authorities ${names} name ${distinct} (one key or identity counts once)` });
    }
    return unverified(base, authorities, results, distinct);
  }
}

// The fact of an answer given before any signature was looked at.
function earlyFact(t: Early): SignatureFact {
  return fact(t.status, t.code, { ...(t.image ? { image: t.image } : {}), ...(t.reason ? { reason: t.reason } : {}) });
}

// A verified tag-only reference names the tag it was verified through (tags move).
function atTag(t: Target, decided: SignatureFact): SignatureFact {
  return decided.status === 'verified' && !t.ref.digest ? { ...decided, verifiedAtTag: t.ref.tag ?? 'latest' } : decided;
}

// What one found signature shows for one authority: the outcome, or why it cannot count whatever the authority.
function outcomeOf(a: Authority, c: Candidate, rule: ImageRule, repo: RepoRef): { ok: true; note: string } | { ok: false; code: SignatureCode; note: string } {
  if (c.defect !== undefined || !c.entity) return { ok: false, code: DEFECT_CODES[c.defectCode ?? 'malformed'], note: c.defect ?? 'unusable signature' };
  const o: Outcome = a.check(c);
  if (!o.ok) return { ok: false, code: OUTCOME_CODES[o.kind], note: o.note };
  if (rule.matchReference === true && c.source === 'sig-tag' && c.reference !== `${repo.registry}/${repo.repository}`) {
    return { ok: false, code: 'WRONG_REFERENCE', note: `signed for ${JSON.stringify((c.reference ?? '').slice(0, 200))}, not ${repo.registry}/${repo.repository}` };
  }
  return o;
}

// Tries every candidate against one authority; the first that verifies wins, else the most telling code.
function evaluate(a: Authority, candidates: readonly Candidate[], rule: ImageRule, repo: RepoRef): CachedOutcome {
  const problems: Array<{ code: SignatureCode; note: string }> = [];
  for (const c of candidates) {
    const o = outcomeOf(a, c, rule, repo);
    if (o.ok) return { ok: true, code: 'VERIFIED', notes: [o.note], found: candidates.length };
    problems.push({ code: o.code, note: o.note });
  }
  const code = PRIORITY.find((p) => problems.some((x) => x.code === p)) ?? 'NOT_FOUND';
  return { ok: false, code, notes: problems.filter((p) => p.code === code).map((p) => p.note), found: candidates.length };
}

// The answer when too few authorities verified: the most telling code among theirs, with its evidence.
function unverified(base: Detail, authorities: readonly Authority[], results: ReadonlyMap<string, CachedOutcome>, verified: number): SignatureFact {
  const failing = authorities.filter((a) => !results.get(a.name)?.ok);
  const outcomes = failing.map((a) => results.get(a.name)).filter((r): r is CachedOutcome => r !== undefined);
  const found = Math.max(0, ...outcomes.map((r) => r.found));
  const code = found === 0 ? 'NOT_FOUND' : (PRIORITY.find((p) => outcomes.some((r) => r.code === p)) ?? 'NOT_FOUND');
  const evidence = [...new Set(outcomes.filter((r) => r.code === code).flatMap((r) => r.notes))];
  return fact('unverified', code, { ...base, authorities: failing.map((a) => a.name), verified, found, evidence });
}
