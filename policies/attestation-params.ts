// Parameters every attestation policy shares: the authorities and image rules of require-signed-images (same schema,
// same compilation), and the in-toto predicate types that count.
import type { AttestationParams } from '../src/signatures/attestation-params.js';
import { SIGNED_IMAGES_DEFAULTS, SIGNED_IMAGES_PARAMS_SCHEMA } from './require-signed-images/params.js';

export type { AttestationParams } from '../src/signatures/attestation-params.js';

export const ATTESTATION_PARAMS_SCHEMA = {
  ...SIGNED_IMAGES_PARAMS_SCHEMA,
  predicateTypes: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 512 } },
} as const;

// Defaults for an attestation policy counting these predicate types.
export function attestationDefaults(predicateTypes: readonly string[]): AttestationParams {
  return { ...SIGNED_IMAGES_DEFAULTS, predicateTypes };
}
