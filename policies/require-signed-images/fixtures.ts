import { generateKeyPairSync } from 'node:crypto';
import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';
import { NO_FACTS } from '../../src/engine/facts.js';
import type { FactGatherer } from '../../src/engine/facts.js';
import type { SignatureFact } from '../../src/engine/types.js';

const signature = (status: SignatureFact['status'], message: string): FactGatherer => ({
  gather: async () => ({ ...NO_FACTS, signature: () => ({ status, message }) }),
});

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

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'verified signature', params: TEAM_PARAMS, facts: signature('verified', 'signed by team-key'), spec: specWith(() => undefined) },
    { name: 'image matching no rule with noMatch: allow', params: { ...TEAM_PARAMS, noMatch: 'allow' }, facts: signature('verified', 'signed by team-key'), spec: specWith(sidecar) },
    { name: 'registry error with onError: allow', params: { ...TEAM_PARAMS, onError: 'allow' }, facts: signature('error', 'registry.example.com: 503'), spec: specWith(() => undefined) },
  ],
  fail: [
    { name: 'no authorities configured', sites: ['containers[0]'], spec: specWith(() => undefined) },
    { name: 'signature does not verify', params: TEAM_PARAMS, facts: signature('unverified', 'registry.example.com/team/app:1.4.2@sha256:3f1c… has no signature from authority "team-key" (found 1: signed by another key)'), sites: ['containers[0]'], spec: specWith(() => undefined) },
    { name: 'registry error (onError: deny)', params: TEAM_PARAMS, facts: signature('error', 'cannot check the signatures of registry.example.com/team/app: 503'), sites: ['containers[0]'], spec: specWith(() => undefined) },
    { name: 'image matching no rule (noMatch: deny)', params: TEAM_PARAMS, facts: signature('verified', 'signed by team-key'), sites: ['containers[1]'], spec: specWith(sidecar) },
    { name: 'invalid image reference', params: { ...TEAM_PARAMS, noMatch: 'allow' }, facts: signature('verified', 'signed by team-key'), sites: ['containers[0]'], spec: specWith((s) => (s.containers[0].image = 'Registry.Example.com/Team/App:1')) },
    { name: 'registry look-ups disabled', params: TEAM_PARAMS, facts: signature('unavailable', 'registry look-ups are disabled'), sites: ['containers[0]'], spec: specWith(() => undefined) },
  ],
};
