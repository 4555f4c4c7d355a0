// The engine's attestation facts: a FactGatherer that verifies, for each policy that asks for attestations, the
// images its rules match, at the digests resolved for the review, with that policy's authorities and predicate types.

import type { CacheHits, FactGatherer, FactRequest } from '../engine/facts.js';
import { NO_FACT_GATHERER } from '../engine/facts.js';
import type { AttestationFact, DigestFact, Facts } from '../engine/types.js';
import { NOT_CACHED, peekRequestCredentials, requestCredentials, type PullSecretReader } from '../images/pull-secrets.js';
import type { AttestationParams } from './attestation-params.js';
import type { AttestationVerifier } from './attestations.js';
import { matchRule } from './params.js';
import type { VerifyOptions } from './verifier.js';

const NOT_GATHERED: AttestationFact = { status: 'unavailable', code: 'UNAVAILABLE', message: 'the attestations were not looked up for this image', attestations: [] };

/** A policy asking for attestation facts, with its current parameters. */
export interface AttestationPolicyParams {
  readonly id: string;
  readonly params: AttestationParams;
}

export interface AttestationGathererOptions {
  /** the active attestation policies and their params; read per request */
  policies: () => readonly AttestationPolicyParams[];
  /** the pod's imagePullSecrets as per-request registry credentials (registry.usePullSecrets) */
  pullSecrets?: PullSecretReader;
}

type Check<R> = (image: string, params: AttestationParams, opts: VerifyOptions) => R;

// Checks one image's attestations at the digest resolved for the review; a failed resolution is the fact's error.
function verifyAt<R>(check: Check<R>, image: string, params: AttestationParams, opts: VerifyOptions, at: DigestFact | undefined): R | AttestationFact {
  if (at?.status === 'error') return { status: 'error', code: 'REGISTRY_ERROR', message: `cannot resolve "${image}" to a digest to check its attestations: ${at.message}`, attestations: [] };
  return check(image, params, at?.status === 'ok' ? { ...opts, digest: at.digest } : opts);
}

const keyOf = (policy: string, image: string) => `${policy}\n${image}`;

interface Job {
  readonly p: AttestationPolicyParams;
  readonly image: string;
}

// Each attestation policy with each image its rules match.
function jobsOf(options: AttestationGathererOptions, images: readonly string[]): Job[] {
  return options.policies().flatMap((p) => images.filter((image) => matchRule(p.params, image) !== undefined).map((image) => ({ p, image })));
}

// The attestation facts of the request from cached verdicts (none asked for: an empty map), or undefined.
function peekAttestations(verifier: AttestationVerifier, options: AttestationGathererOptions, request: FactRequest, hits: CacheHits): Map<string, AttestationFact> | undefined {
  const byKey = new Map<string, AttestationFact>();
  const images = request.images.get('attestation');
  const jobs = images && images.size > 0 ? jobsOf(options, [...images]) : [];
  if (jobs.length === 0) return byKey;
  const credentials = peekRequestCredentials(options.pullSecrets, request);
  if (credentials === NOT_CACHED || !verifier.peek) return undefined;
  const opts: VerifyOptions = { deadline: request.deadline, ...(credentials ? { credentials } : {}) };
  const peek: Check<AttestationFact | undefined> = (image, params, o) => verifier.peek?.(image, params, o, hits);
  for (const { p, image } of jobs) {
    const fact = verifyAt(peek, image, p.params, opts, request.digests?.get(image));
    if (!fact) return undefined;
    byKey.set(keyOf(p.id, image), fact);
  }
  return byKey;
}

function withAttestations(rest: Facts, byKey: ReadonlyMap<string, AttestationFact>): Facts {
  return { ...rest, attestation: (policy, image) => byKey.get(keyOf(policy, image)) ?? NOT_GATHERED };
}

/** A gatherer answering attestation facts for request.images.get('attestation'); other facts come from `next`. */
export function attestationFactGatherer(verifier: AttestationVerifier, options: AttestationGathererOptions, next: FactGatherer = NO_FACT_GATHERER): FactGatherer {
  return {
    async gather(request) {
      const images = [...(request.images.get('attestation') ?? [])];
      const verify = async (): Promise<Map<string, AttestationFact>> => {
        const jobs = jobsOf(options, images);
        if (jobs.length === 0) return new Map();
        const credentials = await requestCredentials(options.pullSecrets, request);
        const opts: VerifyOptions = { deadline: request.deadline, ...(credentials ? { credentials } : {}) };
        const check: Check<Promise<AttestationFact>> = (image, params, o) => verifier.verify(image, params, o);
        const facts = await Promise.all(jobs.map(({ p, image }) => verifyAt(check, image, p.params, opts, request.digests?.get(image))));
        return new Map(jobs.map(({ p, image }, i) => [keyOf(p.id, image), facts[i] as AttestationFact]));
      };
      const [byKey, rest] = await Promise.all([verify(), next.gather(request)]);
      return withAttestations(rest, byKey);
    },
    peek(request, hits) {
      const byKey = peekAttestations(verifier, options, request, hits);
      if (!byKey) return undefined;
      const rest = next.peek?.(request, hits);
      return rest && withAttestations(rest, byKey);
    },
  };
}
