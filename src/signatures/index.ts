// Public surface of src/signatures: the verifier the engine's fact gatherer calls, and the policy parameters.

export { createSignatureVerifier, type SignatureVerifier, type SignatureVerifierOptions, type SignatureVerifierDeps, type VerifyOptions } from './verifier.js';
export { SIGNED_IMAGES_DEFAULTS, SIGNED_IMAGES_PARAMS_SCHEMA, matchRule, ruleSubject, type SignedImagesParams, type AuthoritySpec, type ImageRule, type KeylessIdentity } from './params.js';
export { signatureParamsProblems } from './validate.js';
export { verifyImages, signatureFactGatherer, type SignatureGathererOptions } from './gather.js';
export { SignatureError, type SignatureErrorCode } from './errors.js';
export { createAttestationVerifier, type AttestationVerifier } from './attestations.js';
export { attestationFactGatherer, type AttestationGathererOptions, type AttestationPolicyParams } from './attest-gather.js';
export { ATTESTATION_PARAMS_SCHEMA, attestationDefaults, type AttestationParams } from './attestation-params.js';
