// Parameters of require-provenance: the attestation authorities and rules (as require-signed-images), the SLSA
// predicate types that count, the builders allowed, and the source repository (and optionally ref) globs.
import { ATTESTATION_PARAMS_SCHEMA, attestationDefaults, type AttestationParams } from '../attestation-params.js';
import { signatureParamsProblems } from '../../src/signatures/validate.js';
import { SLSA_V02, SLSA_V1 } from './provenance.js';

export interface ProvenanceParams extends AttestationParams {
  /** builder ids allowed (exact, or globs: https://github.com/slsa-framework/slsa-github-generator/**) */
  readonly builderIds: readonly string[];
  /** glob on the source repository as host/path: github.com/example/* */
  readonly sourceRepository: string;
  /** glob on the source ref (refs/heads/main, refs/tags/v*); '' = any ref */
  readonly sourceRef: string;
}

export const PROVENANCE_DEFAULTS: ProvenanceParams = {
  ...attestationDefaults([SLSA_V1, SLSA_V02]),
  builderIds: [],
  sourceRepository: '',
  sourceRef: '',
};

export const PROVENANCE_PARAMS_SCHEMA = {
  ...ATTESTATION_PARAMS_SCHEMA,
  builderIds: { type: 'array', uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 1024 } },
  sourceRepository: { type: 'string', maxLength: 1024 },
  sourceRef: { type: 'string', maxLength: 1024 },
} as const;

// Problems the schema cannot see: the authorities, as require-signed-images.
export function provenanceProblems(params: ProvenanceParams): string[] {
  return signatureParamsProblems(params);
}
