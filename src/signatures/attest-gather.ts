// The engine's attestation facts: a FactGatherer that verifies, for each policy that asks for attestations, the
// images its rules match, at the digests resolved for the review, with that policy's authorities and predicate types.

import type { FactGatherer } from '../engine/facts.js';
import { NO_FACT_GATHERER } from '../engine/facts.js';
import type { AttestationFact, DigestFact, Facts } from '../engine/types.js';
import { requestCredentials, type PullSecretReader } from '../images/pull-secrets.js';
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

// Verifies one image's attestations at the digest resolved for the review; a failed resolution is the fact's error.
function verifyAt(verifier: AttestationVerifier, image: string, params: AttestationParams, opts: VerifyOptions, at: DigestFact | undefined): Promise<AttestationFact> | AttestationFact {
  if (at?.status === 'error') return { status: 'error', code: 'REGISTRY_ERROR', message: `cannot resolve "${image}" to a digest to check its attestations: ${at.message}`, attestations: [] };
  return verifier.verify(image, params, at?.status === 'ok' ? { ...opts, digest: at.digest } : opts);
}

const keyOf = (policy: string, image: string) => `${policy}\n${image}`;

/** A gatherer answering attestation facts for request.images.get('attestation'); other facts come from `next`. */
export function attestationFactGatherer(verifier: AttestationVerifier, options: AttestationGathererOptions, next: FactGatherer = NO_FACT_GATHERER): FactGatherer {
  return {
    async gather(request) {
      const images = [...(request.images.get('attestation') ?? [])];
      const verify = async (): Promise<Map<string, AttestationFact>> => {
        const jobs = options.policies().flatMap((p) => images.filter((image) => matchRule(p.params, image) !== undefined).map((image) => ({ p, image })));
        if (jobs.length === 0) return new Map();
        const credentials = await requestCredentials(options.pullSecrets, request);
        const opts: VerifyOptions = { deadline: request.deadline, ...(credentials ? { credentials } : {}) };
        const facts = await Promise.all(jobs.map(({ p, image }) => verifyAt(verifier, image, p.params, opts, request.digests?.get(image))));
        return new Map(jobs.map(({ p, image }, i) => [keyOf(p.id, image), facts[i] as AttestationFact]));
      };
      const [byKey, rest] = await Promise.all([verify(), next.gather(request)]);
      const facts: Facts = { ...rest, attestation: (policy, image) => byKey.get(keyOf(policy, image)) ?? NOT_GATHERED };
      return facts;
    },
  };
}
