// Resolution of a review's images, once: every tag the policies or pinning need is resolved to a digest before
// image facts and signatures are looked up, and both are then looked up at that digest.
import type { FactGatherer, FactRequest } from '../engine/facts.js';
import type { DigestFact, Facts } from '../engine/types.js';
import { settleBy } from '../engine/deadline.js';
import { toRegistryError } from './errors.js';
import type { DockerConfigJson } from './credentials.js';
import { ImageReferenceError, referenceOf, type ImageReference } from './reference.js';
import type { ImageResolver } from './resolver.js';
import { NOT_CACHED, peekRequestCredentials, requestCredentials } from './pull-secrets.js';
import type { PullSecretReader } from './pull-secrets.js';

const UNAVAILABLE: DigestFact = { status: 'unavailable' };

// The images of every fact kind the request asks for.
function requestedImages(request: FactRequest): Set<string> {
  const all = new Set<string>();
  for (const images of request.images.values()) for (const image of images) all.add(image);
  return all;
}

// The digest fact of one image without a registry round (an invalid reference, a digest, a cached tag), else its
// reference to resolve.
function knownDigest(resolver: ImageResolver, image: string, credentials?: DockerConfigJson): DigestFact | ImageReference {
  const ref = referenceOf(image);
  if (ref instanceof ImageReferenceError) return { status: 'error', code: 'INVALID_REFERENCE', message: ref.message };
  const known = resolver.peek(ref, credentials);
  return known ? { status: 'ok', digest: known } : ref;
}

function isFact(known: DigestFact | ImageReference): known is DigestFact {
  return 'status' in known;
}

// Resolves one image to the digest it names now; never throws.
async function resolveOne(resolver: ImageResolver, image: string, deadline: number, credentials?: DockerConfigJson): Promise<DigestFact> {
  const ref = knownDigest(resolver, image, credentials);
  if (isFact(ref)) return ref;
  const timedOut = (): DigestFact => ({ status: 'error', code: 'REGISTRY_TIMEOUT', message: `${ref.registry}: no answer before the deadline` });
  const pending = resolver.digestOf(ref, { deadline, ...(credentials ? { credentials } : {}) }).then(
    (digest): DigestFact => ({ status: 'ok', digest }),
    (err: unknown): DigestFact => {
      const e = toRegistryError(err, 'REGISTRY_UNREACHABLE', ref.registry);
      return { status: 'error', code: e.code, message: e.message };
    },
  );
  return settleBy(pending, deadline, timedOut);
}

// Resolves every image at once within the deadline (capped by the registry timeout).
export async function resolveImages(resolver: ImageResolver, images: Iterable<string>, deadline: number, credentials?: DockerConfigJson): Promise<Map<string, DigestFact>> {
  const list = [...new Set(images)];
  const facts = await Promise.all(list.map((image) => resolveOne(resolver, image, deadline, credentials)));
  return new Map(list.map((image, i) => [image, facts[i] as DigestFact]));
}

// Every image's digest from the resolver's cache alone, or undefined when one is not cached.
function peekDigests(resolver: ImageResolver, images: ReadonlySet<string>, credentials?: DockerConfigJson): Map<string, DigestFact> | undefined {
  const digests = new Map<string, DigestFact>();
  for (const image of images) {
    const known = knownDigest(resolver, image, credentials);
    if (!isFact(known)) return undefined;
    digests.set(image, known);
  }
  return digests;
}

function withDigests(facts: Facts, digests: ReadonlyMap<string, DigestFact>): Facts {
  return { ...facts, digest: (image) => digests.get(image) ?? UNAVAILABLE };
}

/** A gatherer that resolves the review's images once, then asks `next` for facts at those digests. */
export function resolvingGatherer(resolver: ImageResolver, timeoutMs: number, next: FactGatherer, pullSecrets?: PullSecretReader): FactGatherer {
  return {
    async gather(request) {
      const images = requestedImages(request);
      if (images.size === 0) return next.gather(request);
      const credentials = await requestCredentials(pullSecrets, request);
      const deadline = Math.min(request.deadline, Date.now() + timeoutMs);
      const digests = await resolveImages(resolver, images, deadline, credentials);
      return withDigests(await next.gather({ ...request, digests }), digests);
    },
    peek(request, hits) {
      const images = requestedImages(request);
      if (images.size === 0) return next.peek?.(request, hits);
      const credentials = peekRequestCredentials(pullSecrets, request);
      if (credentials === NOT_CACHED) return undefined;
      const digests = peekDigests(resolver, images, credentials);
      if (!digests) return undefined;
      const facts = next.peek?.({ ...request, digests }, hits);
      return facts && withDigests(facts, digests);
    },
  };
}
