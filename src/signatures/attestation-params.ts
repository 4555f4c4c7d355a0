// Parameters of an attestation verification: the signature parameters (authorities, image rules) and the in-toto
// predicate types that count. The schema and defaults are the attestation policies' (policies/attestation-params.ts).

import type { SignedImagesParams } from './params.js';

export interface AttestationParams extends SignedImagesParams {
  /** in-toto predicate types that count (the statement's predicateType, exact) */
  readonly predicateTypes: readonly string[];
}
