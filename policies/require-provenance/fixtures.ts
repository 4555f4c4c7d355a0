import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';
import { attestationFact, attested } from '../../test/helpers/facts.js';
import { SLSA_V02, SLSA_V1, predicate } from '../../test/helpers/attestations.js';
import { TEAM_PARAMS } from '../require-signed-images/fixtures.js';

/** params with one key authority for registry.example.com/team/**, the GitHub SLSA generator, repositories of example */
export const PROVENANCE_PARAMS = {
  ...TEAM_PARAMS,
  builderIds: ['https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v*'],
  sourceRepository: 'github.com/example/*',
};
const app = specWith(() => undefined);
const v1 = () => predicate('slsa-provenance-v1');
const v02 = () => predicate('slsa-provenance-v0.2');

/** the code each failing fixture is denied with */
export const CODES: Record<string, string> = {
  'builder not in the allow-list': 'BUILDER_NOT_ALLOWED',
  'source repository outside the glob': 'SOURCE_NOT_ALLOWED',
  'ref other than the one required': 'REF_NOT_ALLOWED',
  'provenance from an untrusted key': 'UNTRUSTED_SIGNER',
  'provenance copied from another image': 'OTHER_DIGEST',
  'predicate type other than the one configured': 'WRONG_PREDICATE_TYPE',
};

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'SLSA v1 from the GitHub generator', params: PROVENANCE_PARAMS, facts: attested(SLSA_V1, v1()), spec: app },
    { name: 'SLSA v0.2 from the GitHub generator', params: PROVENANCE_PARAMS, facts: attested(SLSA_V02, v02()), spec: app },
    { name: 'ref required and matching', params: { ...PROVENANCE_PARAMS, sourceRef: 'refs/heads/main' }, facts: attested(SLSA_V1, v1()), spec: app },
    { name: 'one of two provenance attestations is allowed', params: PROVENANCE_PARAMS, facts: attested(SLSA_V1, { ...v1(), runDetails: { builder: { id: 'https://evil.example/builder' } } }, v1()), spec: app },
  ],
  fail: [
    { name: 'builder not in the allow-list', params: { ...PROVENANCE_PARAMS, builderIds: ['https://cloudbuild.googleapis.com/GoogleHostedWorker'] }, facts: attested(SLSA_V1, v1()), sites: ['containers[0]'], spec: app },
    { name: 'source repository outside the glob', params: { ...PROVENANCE_PARAMS, sourceRepository: 'github.com/other-org/*' }, facts: attested(SLSA_V02, v02()), sites: ['containers[0]'], spec: app },
    { name: 'ref other than the one required', params: { ...PROVENANCE_PARAMS, sourceRef: 'refs/tags/v*' }, facts: attested(SLSA_V1, v1()), sites: ['containers[0]'], spec: app },
    { name: 'provenance from an untrusted key', params: PROVENANCE_PARAMS, facts: attestationFact({ status: 'unverified', code: 'UNTRUSTED_SIGNER', message: 'registry.example.com/team/app@sha256:0123… has no attestation of https://slsa.dev/provenance/v1 or https://slsa.dev/provenance/v0.2 verified by authority "team-key" (signed by another key)' }), sites: ['containers[0]'], spec: app },
    { name: 'provenance copied from another image', params: PROVENANCE_PARAMS, facts: attestationFact({ status: 'unverified', code: 'OTHER_DIGEST', message: 'registry.example.com/team/app@sha256:0123… has no attestation … (attestation over another digest (sha256:ab12…))' }), sites: ['containers[0]'], spec: app },
    { name: 'predicate type other than the one configured', params: PROVENANCE_PARAMS, facts: attestationFact({ status: 'unverified', code: 'WRONG_PREDICATE_TYPE', message: 'registry.example.com/team/app@sha256:0123… has no attestation … (predicate type https://cosign.sigstore.dev/attestation/vuln/v1, not one configured)' }), sites: ['containers[0]'], spec: app },
    { name: 'builder ids not configured', params: { ...TEAM_PARAMS }, facts: attested(SLSA_V1, v1()), sites: ['containers[0]'], spec: app },
    { name: 'no authorities configured', sites: ['containers[0]'], spec: app },
  ],
};
