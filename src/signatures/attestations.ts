// The attestation verifier: finds the in-toto attestations of an image digest (cosign v2 .att tag, cosign v3 bundles
// as OCI referrers or through the referrers tag), keeps those of the configured predicate types whose subject names
// the digest, and verifies their DSSE signatures with the policy's authorities (@sigstore/verify, as signatures are).
// One verification per (digest, authority, predicate types), cached; concurrent look-ups share one registry round.

import type { LRUCache } from 'lru-cache';
import type { AttestationCode, AttestationFact, VerifiedAttestation } from '../engine/types.js';
import type { CacheHits } from '../engine/facts.js';
import type { CallOptions } from '../images/client.js';
import { toRegistryError } from '../images/errors.js';
import { boundedCache, flat } from '../images/cache-size.js';
import type { AttestationParams } from './attestation-params.js';
import type { Authority } from './authority.js';
import type { Candidate } from './candidates.js';
import { discoverSignatures, sigTag, type Discovery } from './discover.js';
import type { SignatureVerifierDeps, SignatureVerifierOptions, VerifyOptions } from './verifier.js';
import { isEarly, needOf, withDeadline, type Target } from './target.js';
import { VerifierBase, type Peeked } from './verifier-base.js';

export interface AttestationVerifier {
  verify(image: string, params: AttestationParams, opts: VerifyOptions): Promise<AttestationFact>;
  /** What verify would answer from cached verdicts alone (SignatureVerifier.peek); undefined when it would not. */
  peek?(image: string, params: AttestationParams, opts: VerifyOptions, hits: CacheHits): AttestationFact | undefined;
  close(): Promise<void>;
}

interface AuthorityOutcome {
  readonly ok: boolean;
  readonly code: AttestationCode;
  readonly notes: readonly string[];
  readonly found: number;
  readonly attestations: readonly VerifiedAttestation[];
}

/** bytes of verified predicates kept in the outcome cache */
const CACHE_BYTES = 64 * 1024 * 1024;
/** most telling first: an altered envelope, an untrusted signer, one that does not verify with the key, another image's
 * attestation, another predicate type */
const PRIORITY: readonly AttestationCode[] = ['SIGNATURE_INVALID', 'UNTRUSTED_SIGNER', 'KEY_MISMATCH', 'OTHER_DIGEST', 'WRONG_PREDICATE_TYPE', 'MALFORMED', 'NOT_FOUND'];

/** The cached verdicts of one verification's authorities, with what deciding the rest needs. */
interface Verdicts {
  readonly t: Target;
  readonly types: ReadonlySet<string>;
  readonly typeKey: string;
  readonly keyOf: (a: Authority) => string;
  readonly results: Map<string, AuthorityOutcome>;
}

const fact = (status: AttestationFact['status'], code: AttestationCode, message: string, extra: Partial<AttestationFact> = {}): AttestationFact => ({ status, code, message, attestations: [], ...extra });

// Creates the verifier; the client is not closed by it.
export function createAttestationVerifier(options: SignatureVerifierOptions, deps: SignatureVerifierDeps): AttestationVerifier {
  return new Verifier(options, deps);
}

class Verifier extends VerifierBase<AttestationFact> implements AttestationVerifier {
  private readonly outcomes: LRUCache<string, AuthorityOutcome>;

  constructor(options: SignatureVerifierOptions, deps: SignatureVerifierDeps) {
    super(options, deps, 'attestation');
    this.outcomes = boundedCache<string, AuthorityOutcome>({
      maxEntries: this.opts.maxEntries,
      maxBytes: CACHE_BYTES,
      sizeOf: (o) => 256 + o.attestations.reduce((n, a) => n + JSON.stringify(a.predicate ?? null).length, 0),
      ttlMs: Math.max(1, this.opts.verifiedTtlMs),
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.outcomes.clear();
  }

  verify(image: string, params: AttestationParams, opts: VerifyOptions): Promise<AttestationFact> {
    return this.timed(() => this.verifyInner(image, params, opts));
  }

  peek(image: string, params: AttestationParams, opts: VerifyOptions, hits: CacheHits): AttestationFact | undefined {
    return this.peeked(hits, performance.now(), this.peekAnswer(image, params, opts));
  }

  // The answer the cached verdicts give, or undefined when they leave it open.
  private peekAnswer(image: string, params: AttestationParams, opts: VerifyOptions): Peeked<AttestationFact> | undefined {
    const t = this.knownTarget(image, params, opts);
    if (t === undefined) return undefined;
    if (isEarly(t)) return { fact: fact(t.status, t.code, t.message) };
    const v = this.cached(t, new Set(params.predicateTypes));
    return this.undecided(v.t, v.results) ? undefined : { fact: this.conclude(v), count: () => this.countOutcomes(v.t, v.results) };
  }

  private async verifyInner(image: string, params: AttestationParams, opts: VerifyOptions): Promise<AttestationFact> {
    const t = await this.target(image, params, opts);
    if (isEarly(t)) return fact(t.status, t.code, t.message);
    const v = this.cached(t, new Set(params.predicateTypes));
    this.countOutcomes(v.t, v.results);
    if (!this.undecided(v.t, v.results)) return this.conclude(v);
    try {
      return await withDeadline(this.decide(v), t.deadline, t.ref.registry);
    } catch (err) {
      const e = toRegistryError(err, 'REGISTRY_UNREACHABLE', t.ref.registry);
      return fact('error', 'REGISTRY_ERROR', `cannot check the attestations of ${t.display}: ${e.message}`, { digest: t.digest });
    }
  }

  // Finds the attestations of one digest of the wanted predicate types; concurrent callers share one discovery.
  private discover(t: Target, types: ReadonlySet<string>, typeKey: string): Promise<Discovery> {
    const key = `${t.repo.registry}/${t.repo.repository}@${t.digest}|${typeKey}|${this.client.credentialKey(t.repo, t.call.credentials)}`;
    const call: CallOptions = t.call;
    return this.flights.run(key, call.deadline, () => discoverSignatures(this.client, t.repo, t.digest, call, this.limits, { kind: 'attestation', predicateTypes: types }));
  }

  // The cached verdicts of the target's authorities on its digest and predicate types.
  private cached(t: Target, types: ReadonlySet<string>): Verdicts {
    const typeKey = [...types].sort().join(' ');
    const keyOf = (a: Authority) => `${t.repo.registry}/${t.repo.repository}@${t.digest}|${a.fingerprint}|${typeKey}`;
    const results = new Map<string, AuthorityOutcome>();
    for (const a of t.authorities) {
      const hit = this.outcomes.get(keyOf(a));
      if (hit) results.set(a.name, hit);
    }
    return { t, types, typeKey, keyOf, results };
  }

  // Finds the attestations and tries the authorities without a cached verdict, then concludes.
  private async decide(v: Verdicts): Promise<AttestationFact> {
    const { t, types, results } = v;
    const discovery = await this.discover(t, types, v.typeKey);
    const cacheable = discovery.errors.length === 0;
    for (const a of t.authorities) {
      if (results.has(a.name)) continue;
      const r = evaluate(a, discovery.candidates, types);
      results.set(a.name, r);
      if (!this.closed && (r.ok || cacheable)) this.outcomes.set(flat(v.keyOf(a)), r, { ttl: r.ok ? this.opts.verifiedTtlMs : this.opts.unverifiedTtlMs });
    }
    for (const e of discovery.errors) this.logger?.warn({ registry: t.repo.registry, repository: t.repo.repository, code: e.code, err: e.message }, 'attestation look-up failed');
    return this.conclude(v, discovery);
  }

  // The fact the verdicts make: verified by enough distinct signers, a registry error, or why not.
  private conclude(v: Verdicts, discovery?: Discovery): AttestationFact {
    const { t, types, results } = v;
    const need = needOf(t);
    const verified = t.authorities.filter((a) => results.get(a.name)?.ok);
    const digest = t.digest;
    if (new Set(verified.map((a) => a.fingerprint)).size >= need) {
      const byWhere = new Map<string, VerifiedAttestation>();
      for (const a of verified) for (const att of results.get(a.name)?.attestations ?? []) if (!byWhere.has(att.where)) byWhere.set(att.where, att);
      const names = verified.map((a) => `"${a.name}"`).join(', ');
      return fact('verified', 'VERIFIED', `${t.display} has ${byWhere.size} verified attestation(s) of ${[...types].join(' or ')} from ${names}`, { digest, attestations: [...byWhere.values()] });
    }
    if (discovery && discovery.errors.length > 0) {
      return fact('error', 'REGISTRY_ERROR', `cannot check the attestations of ${t.display}: ${discovery.errors[0]?.message ?? 'registry error'}`, { digest });
    }
    return unverified(t, digest, types, results, need, verified.length);
  }
}

// The code of one candidate that cannot count whatever the authority.
function defectCode(c: Candidate): AttestationCode {
  if (c.defectCode === 'other-digest') return 'OTHER_DIGEST';
  if (c.defectCode === 'not-wanted') return 'WRONG_PREDICATE_TYPE';
  return 'MALFORMED';
}

// Tries every candidate of a wanted predicate type against one authority; keeps every one that verifies.
function evaluate(a: Authority, candidates: readonly Candidate[], types: ReadonlySet<string>): AuthorityOutcome {
  const attestations: VerifiedAttestation[] = [];
  const problems: Array<{ code: AttestationCode; note: string }> = [];
  for (const c of candidates) {
    if (c.defect !== undefined || !c.entity) {
      problems.push({ code: defectCode(c), note: `${c.where}: ${c.defect ?? 'unusable attestation'}` });
      continue;
    }
    if (c.predicateType === undefined || !types.has(c.predicateType)) {
      problems.push({ code: 'WRONG_PREDICATE_TYPE', note: `${c.where}: predicate type ${(c.predicateType ?? 'none').slice(0, 100)}, not one configured` });
      continue;
    }
    const o = a.check(c);
    if (o.ok) {
      attestations.push({ predicateType: c.predicateType, predicate: c.predicate, authority: a.name, where: c.where });
      continue;
    }
    const untrusted = o.kind === 'other-key' || o.kind === 'other-identity' || o.kind === 'no-certificate';
    problems.push({ code: untrusted ? 'UNTRUSTED_SIGNER' : o.kind === 'mismatch' ? 'KEY_MISMATCH' : 'SIGNATURE_INVALID', note: `${c.where}: ${o.note}` });
  }
  if (attestations.length > 0) return { ok: true, code: 'VERIFIED', notes: [], found: candidates.length, attestations };
  const code = PRIORITY.find((p) => problems.some((x) => x.code === p)) ?? 'NOT_FOUND';
  return { ok: false, code, notes: problems.filter((p) => p.code === code).map((p) => p.note), found: candidates.length, attestations: [] };
}

function unverified(t: Target, digest: string, types: ReadonlySet<string>, results: Map<string, AuthorityOutcome>, need: number, verified: number): AttestationFact {
  const failing = t.authorities.filter((a) => !results.get(a.name)?.ok);
  const outcomes = failing.map((a) => results.get(a.name)).filter((r): r is AuthorityOutcome => r !== undefined);
  const code = PRIORITY.find((p) => outcomes.some((r) => r.code === p)) ?? 'NOT_FOUND';
  const wanted = [...types].join(' or ');
  if (code === 'NOT_FOUND') {
    return fact('unverified', code, `${t.display} has no attestation of ${wanted} (looked for OCI referrers and the ${sigTag(digest, 'att').slice(0, 19)}….att tag)`, { digest });
  }
  const names = failing.map((a) => `"${a.name}"`).join(', ');
  const notes = [...new Set(outcomes.filter((r) => r.code === code).flatMap((r) => r.notes))];
  const shown = notes.slice(0, 3).join('; ') + (notes.length > 3 ? `; and ${notes.length - 3} more` : '');
  const countNote = need > 1 || verified > 0 ? `need ${need} of ${t.authorities.length}, verified ${verified}; ` : '';
  return fact('unverified', code, `${t.display} has no attestation of ${wanted} verified by ${failing.length === 1 ? 'authority' : 'authorities'} ${names} (${countNote}${shown})`, { digest });
}
