// Facts peeked for a request, answered again for the same request while the caches they were read from stand still:
// a Deployment's Pods, or one template applied again and again, ask for the same facts review after review.
import type { Facts } from './types.js';
import { CacheHits, factsNow, type FactGatherer, type FactRequest } from './facts.js';

interface Peeked {
  readonly parts: readonly string[];
  readonly facts: Facts;
  /** the hits to count again, and when the first entry read expires */
  readonly hits: CacheHits;
  readonly generation: number;
}

/** requests remembered; all forgotten past this (a cluster runs far fewer distinct pod templates at once) */
const MAX_REMEMBERED = 256;

// The parts of a request a peek's answer depends on, in order: the namespace and the pod's service account and pull
// secrets (registry credentials), its platform (node selector, os), and the images of each fact kind (lists with
// their lengths, so that no two requests have the same parts).
export function requestParts(request: FactRequest): string[] {
  const spec = request.pod.spec;
  const parts = [request.namespace ?? '', spec.serviceAccountName ?? '', String(spec.imagePullSecrets.length), ...spec.imagePullSecrets];
  parts.push(spec.nodeSelector['kubernetes.io/os'] ?? '', spec.nodeSelector['kubernetes.io/arch'] ?? '', spec.os ?? '');
  for (const [kind, images] of request.images) {
    parts.push(kind, String(images.size));
    for (const image of images) parts.push(image);
  }
  return parts;
}

function sameParts(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// What a request is remembered under: its first image (a string the review has already hashed), else ''.
function slotOf(request: FactRequest): string {
  for (const images of request.images.values()) for (const image of images) return image;
  return '';
}

/** The facts of requests, peeked once and answered again (their hits counted again) while the gatherer's generation
 * is the one they were peeked at and no entry they were read from has expired. One per config: the gatherers read
 * the config's policy parameters. */
export class PeekedFacts {
  /** by the request's first image: one request each (another with the same first image takes its place) */
  private readonly bySlot = new Map<string, Peeked>();
  private readonly gatherer: FactGatherer;
  private readonly now: () => number;

  constructor(gatherer: FactGatherer, now: () => number = Date.now) {
    this.gatherer = gatherer;
    this.now = now;
  }

  // The request's facts: answered again, else peeked (and remembered), else gathered.
  facts(request: FactRequest): Facts | Promise<Facts> {
    const gatherer = this.gatherer;
    if (!gatherer.generation || !gatherer.peek) return factsNow(gatherer, request);
    const slot = slotOf(request);
    const parts = requestParts(request);
    const known = this.bySlot.get(slot);
    if (known && known.generation === gatherer.generation() && this.now() < known.hits.expiresAt && sameParts(known.parts, parts)) {
      known.hits.count();
      return known.facts;
    }
    const hits = new CacheHits();
    const facts = gatherer.peek(request, hits);
    if (!facts) return gatherer.gather(request);
    hits.count();
    if (this.bySlot.size >= MAX_REMEMBERED && !this.bySlot.has(slot)) this.bySlot.clear();
    // the generation after the peek: reading an expired entry removes it
    this.bySlot.set(slot, { parts, facts, hits, generation: gatherer.generation() });
    return facts;
  }
}
