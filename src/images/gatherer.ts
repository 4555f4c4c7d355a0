// The engine's image-config facts, looked up through the image facts source for the pod's platform.
import type { FactGatherer, FactRequest } from '../engine/facts.js';
import type { Facts, ImageFact } from '../engine/types.js';
import type { PodSpec } from '../workload/k8s.js';
import type { ImageFactsSource } from './facts.js';
import { RegistryError, type RegistryErrorCode } from './errors.js';
import { formatPlatform } from './platform.js';
import type { Platform } from './platform.js';
import { requestCredentials } from './pull-secrets.js';
import type { PullSecretReader } from './pull-secrets.js';

const UNAVAILABLE: ImageFact = { status: 'unavailable' };

/** The platform a pod will run on: its kubernetes.io/os and kubernetes.io/arch node selector, else the default. */
export function podPlatform(spec: PodSpec, fallback: Platform): Platform {
  const os = spec.nodeSelector['kubernetes.io/os'] ?? spec.os ?? fallback.os;
  const architecture = spec.nodeSelector['kubernetes.io/arch'] ?? fallback.architecture;
  return architecture === fallback.architecture && os === fallback.os ? fallback : { os, architecture };
}

// Looks up every image the policies need, all at once, within the request's deadline.
export async function lookupImages(source: ImageFactsSource, request: FactRequest, fallback: Platform, pullSecrets?: PullSecretReader): Promise<Map<string, ImageFact>> {
  const images = [...(request.images.get('imageConfig') ?? [])];
  if (images.length === 0) return new Map();
  const platform = podPlatform(request.pod.spec, fallback);
  const credentials = await requestCredentials(pullSecrets, request);
  const results = await Promise.all(
    images.map((image) => {
      const at = request.digests?.get(image);
      if (at?.status === 'error') return { ok: false as const, error: new RegistryError(at.code as RegistryErrorCode, at.message) };
      const digest = at?.status === 'ok' ? { digest: at.digest } : {};
      return source.lookup(image, { platform, deadline: request.deadline, ...digest, ...(credentials ? { credentials } : {}) });
    }),
  );
  const facts = new Map<string, ImageFact>();
  results.forEach((result, i) => {
    const image = images[i] as string;
    if (result.ok) {
      const f = result.facts;
      facts.set(image, { status: 'ok', digest: f.digest, user: f.user, platform: formatPlatform(f.platform), env: f.env, labels: f.labels, compressedSize: f.compressedSize });
    } else if (result.error.code === 'REGISTRY_DISABLED') {
      facts.set(image, UNAVAILABLE);
    } else {
      facts.set(image, { status: 'error', code: result.error.code, message: result.error.message });
    }
  });
  return facts;
}

/** A gatherer answering image-config facts; other facts come from `next`. */
export function imageFactGatherer(source: ImageFactsSource, fallback: Platform, next: FactGatherer, pullSecrets?: PullSecretReader): FactGatherer {
  return {
    async gather(request) {
      const [images, rest] = await Promise.all([lookupImages(source, request, fallback, pullSecrets), next.gather(request)]);
      const facts: Facts = { ...rest, image: (image) => images.get(image) ?? UNAVAILABLE };
      return facts;
    },
  };
}
