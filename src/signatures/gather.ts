// The engine's signature facts: a FactGatherer that verifies the images the policy asked about, and a helper
// that verifies a set of images at once.

import type { CacheHits, FactGatherer, FactRequest } from '../engine/facts.js';
import { NO_FACT_GATHERER } from '../engine/facts.js';
import type { DigestFact, Facts, SignatureFact } from '../engine/types.js';
import { NOT_CACHED, peekRequestCredentials, requestCredentials } from '../images/pull-secrets.js';
import type { PullSecretReader } from '../images/pull-secrets.js';
import type { SignedImagesParams } from './params.js';
import type { SignatureVerifier, VerifyOptions } from './verifier.js';

const NOT_GATHERED: SignatureFact = { status: 'unavailable', code: 'UNAVAILABLE', reason: 'the signature was not looked up for this image' };

type Check<R> = (image: string, params: SignedImagesParams, opts: VerifyOptions) => R;

// Checks one image at the digest resolved for the review, if any; a failed resolution is the signature's error.
function verifyAt<R>(check: Check<R>, image: string, params: SignedImagesParams, opts: VerifyOptions, at: DigestFact | undefined): R | SignatureFact {
  if (at?.status === 'error') return { status: 'error', code: 'REGISTRY_ERROR', image, reason: at.message };
  return check(image, params, at?.status === 'ok' ? { ...opts, digest: at.digest } : opts);
}

// Verifies every image in parallel (each bounded by opts.deadline), at the digests given when there are; returns the
// lookup for Facts.signature.
export async function verifyImages(verifier: SignatureVerifier, images: Iterable<string>, params: SignedImagesParams, opts: VerifyOptions, digests?: ReadonlyMap<string, DigestFact>): Promise<(image: string) => SignatureFact> {
  const list = [...new Set(images)];
  const verify: Check<Promise<SignatureFact>> = (image, p, o) => verifier.verify(image, p, o);
  const facts = await Promise.all(list.map((image) => verifyAt(verify, image, params, opts, digests?.get(image))));
  const byImage = new Map(list.map((image, i) => [image, facts[i] as SignatureFact]));
  return (image) => byImage.get(image) ?? NOT_GATHERED;
}

// Every image's signature fact from the verifier's cached verdicts alone, or undefined when one is not cached.
function peekImages(verifier: SignatureVerifier, images: ReadonlySet<string>, params: SignedImagesParams, opts: VerifyOptions, hits: CacheHits, digests?: ReadonlyMap<string, DigestFact>): Map<string, SignatureFact> | undefined {
  if (!verifier.peek) return undefined;
  const peek: Check<SignatureFact | undefined> = (image, p, o) => verifier.peek?.(image, p, o, hits);
  const byImage = new Map<string, SignatureFact>();
  for (const image of images) {
    const fact = verifyAt(peek, image, params, opts, digests?.get(image));
    if (!fact) return undefined;
    byImage.set(image, fact);
  }
  return byImage;
}

export interface SignatureGathererOptions {
  /** the current require-signed-images params (config.policies['require-signed-images'].params); read per request */
  params: () => SignedImagesParams | undefined;
  /** the pod's imagePullSecrets as per-request registry credentials (registry.usePullSecrets) */
  pullSecrets?: PullSecretReader;
}

// The signature facts of the request from cached verdicts (none asked for: an empty map), or undefined.
function peekSignatures(verifier: SignatureVerifier, options: SignatureGathererOptions, request: FactRequest, hits: CacheHits): Map<string, SignatureFact> | undefined {
  const images = request.images.get('signature');
  const params = images && images.size > 0 ? options.params() : undefined;
  if (!images || !params) return new Map();
  const credentials = peekRequestCredentials(options.pullSecrets, request);
  if (credentials === NOT_CACHED) return undefined;
  return peekImages(verifier, images, params, { deadline: request.deadline, ...(credentials ? { credentials } : {}) }, hits, request.digests);
}

/** A gatherer answering signature facts for request.images.get('signature'); other facts come from `next`. */
export function signatureFactGatherer(verifier: SignatureVerifier, options: SignatureGathererOptions, next: FactGatherer = NO_FACT_GATHERER): FactGatherer {
  return {
    async gather(request) {
      const images = request.images.get('signature') ?? new Set<string>();
      const params = options.params();
      const verify = async () => {
        if (images.size === 0 || !params) return undefined;
        const credentials = await requestCredentials(options.pullSecrets, request);
        return verifyImages(verifier, images, params, { deadline: request.deadline, ...(credentials ? { credentials } : {}) }, request.digests);
      };
      const [signature, rest] = await Promise.all([verify(), next.gather(request)]);
      const facts: Facts = { ...rest, signature: signature ?? rest.signature };
      return facts;
    },
    peek(request, hits) {
      const signatures = peekSignatures(verifier, options, request, hits);
      if (!signatures) return undefined;
      const rest = next.peek?.(request, hits);
      if (!rest || signatures.size === 0) return rest;
      return { ...rest, signature: (image) => signatures.get(image) ?? NOT_GATHERED };
    },
  };
}
