// The engine's signature facts: a FactGatherer that verifies the images the policy asked about, and a helper
// that verifies a set of images at once.

import type { FactGatherer } from '../engine/facts.js';
import { NO_FACT_GATHERER } from '../engine/facts.js';
import type { DigestFact, Facts, SignatureFact } from '../engine/types.js';
import { requestCredentials } from '../images/pull-secrets.js';
import type { PullSecretReader } from '../images/pull-secrets.js';
import type { SignedImagesParams } from './params.js';
import type { SignatureVerifier, VerifyOptions } from './verifier.js';

const NOT_GATHERED: SignatureFact = { status: 'unavailable', code: 'UNAVAILABLE', reason: 'the signature was not looked up for this image' };

// Verifies one image at the digest resolved for the review, if any; a failed resolution is the signature's error.
function verifyAt(verifier: SignatureVerifier, image: string, params: SignedImagesParams, opts: VerifyOptions, at: DigestFact | undefined): Promise<SignatureFact> | SignatureFact {
  if (at?.status === 'error') return { status: 'error', code: 'REGISTRY_ERROR', image, reason: at.message };
  return verifier.verify(image, params, at?.status === 'ok' ? { ...opts, digest: at.digest } : opts);
}

// Verifies every image in parallel (each bounded by opts.deadline), at the digests given when there are; returns the
// lookup for Facts.signature.
export async function verifyImages(verifier: SignatureVerifier, images: Iterable<string>, params: SignedImagesParams, opts: VerifyOptions, digests?: ReadonlyMap<string, DigestFact>): Promise<(image: string) => SignatureFact> {
  const list = [...new Set(images)];
  const facts = await Promise.all(list.map((image) => verifyAt(verifier, image, params, opts, digests?.get(image))));
  const byImage = new Map(list.map((image, i) => [image, facts[i] as SignatureFact]));
  return (image) => byImage.get(image) ?? NOT_GATHERED;
}

export interface SignatureGathererOptions {
  /** the current require-signed-images params (config.policies['require-signed-images'].params); read per request */
  params: () => SignedImagesParams | undefined;
  /** the pod's imagePullSecrets as per-request registry credentials (registry.usePullSecrets) */
  pullSecrets?: PullSecretReader;
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
  };
}
