// Fact gatherers with fixed answers: policies are pure, so their tests feed image facts as inputs.
import type { FactGatherer } from '../../src/engine/facts.js';
import { NO_FACTS } from '../../src/engine/facts.js';
import type { AttestationFact, ImageFact } from '../../src/engine/types.js';

export const TEST_DIGEST = 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

/** Every image has this config User. */
export function imageUser(user: string): FactGatherer {
  return factsFor(() => ({ status: 'ok', digest: TEST_DIGEST, user, platform: 'linux/amd64' }));
}

/** Every image look-up failed with this message. */
export function imageError(message: string): FactGatherer {
  return factsFor(() => ({ status: 'error', message }));
}

export function factsFor(image: (ref: string) => ImageFact): FactGatherer {
  return { gather: async () => ({ ...NO_FACTS, image }) };
}

/** Every image's attestation fact, for every policy. */
export function attestationFact(fact: Partial<AttestationFact>): FactGatherer {
  const full: AttestationFact = { status: 'verified', code: 'VERIFIED', message: 'verified', digest: TEST_DIGEST, attestations: [], ...fact };
  return { gather: async () => ({ ...NO_FACTS, attestation: () => full }) };
}

/** Every image carries these verified predicates (of one predicate type). */
export function attested(predicateType: string, ...predicates: unknown[]): FactGatherer {
  return attestationFact({ attestations: predicates.map((predicate, i) => ({ predicateType, predicate, authority: 'team-key', where: `referrer sha256:${i}…` })) });
}
