// The facts the engine gathers for policies before running them (image configs, signatures).
import type { DigestFact, Facts, FactKind, PodSite } from './types.js';

export interface FactRequest {
  readonly pod: PodSite;
  readonly namespace?: string;
  /** the images each kind of fact is needed for */
  readonly images: ReadonlyMap<FactKind, ReadonlySet<string>>;
  /** epoch milliseconds by which every look-up must have finished */
  readonly deadline: number;
  /** each image's digest, resolved once for the review before image facts and signatures are looked up at it */
  readonly digests?: ReadonlyMap<string, DigestFact>;
}

export interface FactGatherer {
  gather(request: FactRequest): Promise<Facts>;
}

/** Facts when nothing can be looked up: every image fact is unavailable. */
export const NO_FACTS: Facts = {
  image: () => ({ status: 'unavailable' }),
  signature: () => ({ status: 'unavailable', code: 'UNAVAILABLE', reason: 'signature verification is not configured' }),
  digest: () => ({ status: 'unavailable' }),
  attestation: () => ({ status: 'unavailable', code: 'UNAVAILABLE', message: 'attestation verification is not configured', attestations: [] }),
};

export const NO_FACT_GATHERER: FactGatherer = { gather: async () => NO_FACTS };
