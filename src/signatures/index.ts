// Public surface of src/signatures: the verifiers the engine's fact gatherers call, and the parameter types they check
// against (the policies own the schemas and defaults).

export { createSignatureVerifier, type SignatureVerifier, type SignatureVerifierOptions, type SignatureVerifierDeps, type VerifyOptions } from './verifier.js';
export { matchRule, ruleSubject, type SignedImagesParams, type AuthoritySpec, type ImageRule, type KeylessIdentity } from './params.js';
export { signatureParamsProblems } from './validate.js';
export { verifyImages, signatureFactGatherer, type SignatureGathererOptions } from './gather.js';
export { SignatureError, type SignatureErrorCode } from './errors.js';
export { createAttestationVerifier, type AttestationVerifier } from './attestations.js';
export { attestationFactGatherer, type AttestationGathererOptions, type AttestationPolicyParams } from './attest-gather.js';
export type { AttestationParams } from './attestation-params.js';
