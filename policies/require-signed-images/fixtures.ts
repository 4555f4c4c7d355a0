import { generateKeyPairSync } from 'node:crypto';
import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';
import { NO_FACTS } from '../../src/engine/facts.js';
import type { FactGatherer } from '../../src/engine/facts.js';
import type { SignatureFact } from '../../src/engine/types.js';

const DIGEST = 'sha256:3f1c2a9b7e4d5f6a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a';
const IMAGE = 'registry.example.com/team/app:1.4.2@sha256:3f1c2a9b7e4d…';

/** Every image's signature fact. */
export const signature = (fact: Pick<SignatureFact, 'status' | 'code'> & Partial<SignatureFact>): FactGatherer => ({
  gather: async () => ({ ...NO_FACTS, signature: () => fact }),
});

const unverified = (code: SignatureFact['code'], evidence: string) =>
  signature({ status: 'unverified', code, image: IMAGE, digest: DIGEST, authorities: ['team-key'], need: 1, verified: 0, found: 1, evidence: [evidence] });
const VERIFIED = signature({ status: 'verified', code: 'VERIFIED', image: IMAGE, digest: DIGEST, authorities: ['team-key'], found: 1, evidence: ['signed by key sha256:ab12cd34ef56…'] });
const REGISTRY_ERROR = signature({ status: 'error', code: 'REGISTRY_ERROR', image: IMAGE, digest: DIGEST, reason: 'registry.example.com: 503 Service Unavailable after 3 tries' });

// a real P-256 public key: the config loader checks authority keys
const KEY = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

/** params with one key authority for registry.example.com/team/** */
export const TEAM_PARAMS = {
  authorities: { 'team-key': { key: KEY, ignoreTlog: true } },
  images: [{ pattern: 'registry.example.com/team/**', authorities: ['team-key'] }],
};

const sidecar = (spec: Record<string, any>) => {
  spec.containers.push({ ...spec.containers[0], name: 'proxy', image: 'docker.io/envoyproxy/envoy:v1.31.0' });
};
const app = specWith(() => undefined);

/** the code each failing fixture is denied with */
export const CODES: Record<string, string> = {
  'no authorities configured': 'NOT_CONFIGURED',
  'no signature found': 'NOT_FOUND',
  'signature that does not verify with the key (legacy .sig)': 'KEY_MISMATCH',
  'bundle signed by another key': 'UNTRUSTED_SIGNER',
  'bundle naming the key whose content was altered': 'SIGNATURE_INVALID',
  'no transparency log entry': 'TLOG_MISSING',
  'signature copied from another image': 'OTHER_DIGEST',
  'signature for another repository (matchReference)': 'WRONG_REFERENCE',
  'an attestation instead of a signature': 'WRONG_PREDICATE_TYPE',
  'unreadable signature': 'MALFORMED',
  'registry error (onError: deny)': 'REGISTRY_ERROR',
  'image matching no rule (noMatch: deny)': 'NO_RULE',
  'invalid image reference': 'INVALID_REFERENCE',
  'registry look-ups disabled': 'UNAVAILABLE',
  'configuration the verifier cannot use': 'CONFIG_INVALID',
};

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'verified signature', params: TEAM_PARAMS, facts: VERIFIED, spec: app },
    { name: 'image matching no rule with noMatch: allow', params: { ...TEAM_PARAMS, noMatch: 'allow' }, facts: VERIFIED, spec: specWith(sidecar) },
    { name: 'registry error with onError: allow', params: { ...TEAM_PARAMS, onError: 'allow' }, facts: REGISTRY_ERROR, spec: app },
  ],
  fail: [
    { name: 'no authorities configured', sites: ['containers[0]'], spec: app },
    { name: 'no signature found', params: TEAM_PARAMS, facts: signature({ status: 'unverified', code: 'NOT_FOUND', image: IMAGE, digest: DIGEST, authorities: ['team-key'], found: 0 }), sites: ['containers[0]'], spec: app },
    { name: 'signature that does not verify with the key (legacy .sig)', params: TEAM_PARAMS, facts: unverified('KEY_MISMATCH', 'does not verify with key sha256:ab12cd34ef56…: signed by another key, or its payload was altered'), sites: ['containers[0]'], spec: app },
    { name: 'bundle signed by another key', params: TEAM_PARAMS, facts: unverified('UNTRUSTED_SIGNER', 'signed by another key (its key hint names key sha256:9f8e7d6c5b4a…, not key sha256:ab12cd34ef56…)'), sites: ['containers[0]'], spec: app },
    { name: 'bundle naming the key whose content was altered', params: TEAM_PARAMS, facts: unverified('SIGNATURE_INVALID', 'names key sha256:ab12cd34ef56… but does not verify: the signed content was altered'), sites: ['containers[0]'], spec: app },
    { name: 'no transparency log entry', params: TEAM_PARAMS, facts: unverified('TLOG_MISSING', 'no transparency log entry (the authority does not set ignoreTlog: true)'), sites: ['containers[0]'], spec: app },
    { name: 'signature copied from another image', params: TEAM_PARAMS, facts: unverified('OTHER_DIGEST', 'signature over another digest (sha256:9d0e1f2a3b4c…)'), sites: ['containers[0]'], spec: app },
    { name: 'signature for another repository (matchReference)', params: TEAM_PARAMS, facts: unverified('WRONG_REFERENCE', 'signed for "elsewhere.example.com/app", not registry.example.com/team/app'), sites: ['containers[0]'], spec: app },
    { name: 'an attestation instead of a signature', params: TEAM_PARAMS, facts: unverified('WRONG_PREDICATE_TYPE', 'an attestation (https://slsa.dev/provenance/v1), not a signature'), sites: ['containers[0]'], spec: app },
    { name: 'unreadable signature', params: TEAM_PARAMS, facts: unverified('MALFORMED', 'payload is not JSON'), sites: ['containers[0]'], spec: app },
    { name: 'registry error (onError: deny)', params: TEAM_PARAMS, facts: REGISTRY_ERROR, sites: ['containers[0]'], spec: app },
    { name: 'image matching no rule (noMatch: deny)', params: TEAM_PARAMS, facts: VERIFIED, sites: ['containers[1]'], spec: specWith(sidecar) },
    { name: 'invalid image reference', params: { ...TEAM_PARAMS, noMatch: 'allow' }, facts: VERIFIED, sites: ['containers[0]'], spec: specWith((s) => (s.containers[0].image = 'Registry.Example.com/Team/App:1')) },
    { name: 'registry look-ups disabled', params: TEAM_PARAMS, facts: signature({ status: 'unavailable', code: 'UNAVAILABLE', reason: 'registry look-ups are disabled (registry.enabled: false)' }), sites: ['containers[0]'], spec: app },
    { name: 'configuration the verifier cannot use', params: TEAM_PARAMS, facts: signature({ status: 'unverified', code: 'CONFIG_INVALID', reason: 'authorities.team-key: expected a readable keyFile /etc/keys/team.pub, got ENOENT' }), sites: ['containers[0]'], spec: app },
  ],
};
