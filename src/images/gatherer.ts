// The engine's image-config facts, looked up through the image facts source for the pod's platform.
import type { CacheHits, FactGatherer, FactRequest } from '../engine/facts.js';
import type { Facts, ImageFact } from '../engine/types.js';
import type { PodSpec } from '../workload/k8s.js';
import type { FactsResult, ImageFactsSource, LookupOptions } from './facts.js';
import type { DockerConfigJson } from './credentials.js';
import { RegistryError, type RegistryErrorCode } from './errors.js';
import { formatPlatform } from './platform.js';
import type { Platform } from './platform.js';
import { NOT_CACHED, peekRequestCredentials, requestCredentials } from './pull-secrets.js';
import type { PullSecretReader } from './pull-secrets.js';

const UNAVAILABLE: ImageFact = { status: 'unavailable' };

/** The platform a pod will run on: its kubernetes.io/os and kubernetes.io/arch node selector, else the default. */
export function podPlatform(spec: PodSpec, fallback: Platform): Platform {
  const os = spec.nodeSelector['kubernetes.io/os'] ?? spec.os ?? fallback.os;
  const architecture = spec.nodeSelector['kubernetes.io/arch'] ?? fallback.architecture;
  return architecture === fallback.architecture && os === fallback.os ? fallback : { os, architecture };
}

// The look-up options of one image at the digest resolved for the review, or the failed resolution as its result.
function optionsFor(image: string, request: FactRequest, platform: Platform, credentials: DockerConfigJson | undefined): LookupOptions | FactsResult {
  const at = request.digests?.get(image);
  if (at?.status === 'error') return { ok: false, error: new RegistryError(at.code as RegistryErrorCode, at.message) };
  const opts: LookupOptions = { platform, deadline: request.deadline };
  if (at?.status === 'ok') opts.digest = at.digest;
  if (credentials) opts.credentials = credentials;
  return opts;
}

function isResult(o: LookupOptions | FactsResult): o is FactsResult {
  return 'ok' in o;
}

/** the engine's fact of each look-up result the source keeps (it answers the same object while its caches do) */
const factOfResult = new WeakMap<FactsResult, ImageFact>();

// The engine's fact of one look-up's result.
function imageFactOf(result: FactsResult): ImageFact {
  let fact = factOfResult.get(result);
  if (!fact) factOfResult.set(result, (fact = toImageFact(result)));
  return fact;
}

function toImageFact(result: FactsResult): ImageFact {
  if (result.ok) {
    const f = result.facts;
    return { status: 'ok', digest: f.digest, user: f.user, platform: formatPlatform(f.platform), env: f.env, labels: f.labels, compressedSize: f.compressedSize };
  }
  return result.error.code === 'REGISTRY_DISABLED' ? UNAVAILABLE : { status: 'error', code: result.error.code, message: result.error.message };
}

// Looks up every image the policies need, all at once, within the request's deadline.
export async function lookupImages(source: ImageFactsSource, request: FactRequest, fallback: Platform, pullSecrets?: PullSecretReader): Promise<Map<string, ImageFact>> {
  const images = [...(request.images.get('imageConfig') ?? [])];
  if (images.length === 0) return new Map();
  const platform = podPlatform(request.pod.spec, fallback);
  const credentials = await requestCredentials(pullSecrets, request);
  const results = await Promise.all(
    images.map((image) => {
      const opts = optionsFor(image, request, platform, credentials);
      return isResult(opts) ? opts : source.lookup(image, opts);
    }),
  );
  return new Map(results.map((result, i) => [images[i] as string, imageFactOf(result)]));
}

// Every image's fact from the source's caches alone, or undefined when one is not cached (or the source cannot peek).
function peekImages(source: ImageFactsSource, request: FactRequest, fallback: Platform, pullSecrets: PullSecretReader | undefined, hits: CacheHits): Map<string, ImageFact> | undefined {
  const images = request.images.get('imageConfig');
  const facts = new Map<string, ImageFact>();
  if (!images || images.size === 0) return facts;
  const credentials = peekRequestCredentials(pullSecrets, request);
  if (credentials === NOT_CACHED || !source.peek) return undefined;
  const platform = podPlatform(request.pod.spec, fallback);
  for (const image of images) {
    const opts = optionsFor(image, request, platform, credentials);
    const result = isResult(opts) ? opts : source.peek(image, opts, hits);
    if (!result) return undefined;
    facts.set(image, imageFactOf(result));
  }
  return facts;
}

function withImages(rest: Facts, images: ReadonlyMap<string, ImageFact>): Facts {
  return { ...rest, image: (image) => images.get(image) ?? UNAVAILABLE };
}

/** A gatherer answering image-config facts; other facts come from `next`. */
export function imageFactGatherer(source: ImageFactsSource, fallback: Platform, next: FactGatherer, pullSecrets?: PullSecretReader): FactGatherer {
  return {
    async gather(request) {
      const [images, rest] = await Promise.all([lookupImages(source, request, fallback, pullSecrets), next.gather(request)]);
      return withImages(rest, images);
    },
    peek(request, hits) {
      const images = peekImages(source, request, fallback, pullSecrets, hits);
      if (!images) return undefined;
      const rest = next.peek?.(request, hits);
      return rest && withImages(rest, images);
    },
  };
}
