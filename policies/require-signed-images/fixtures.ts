import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';
import { NO_FACTS } from '../../src/engine/facts.js';
import type { FactGatherer } from '../../src/engine/facts.js';

const signature = (status: 'verified' | 'unverified' | 'error', message: string): FactGatherer => ({
  gather: async () => ({ ...NO_FACTS, signature: () => ({ status, message }) }),
});

export const fixtures: PolicyFixtures = {
  pass: [{ name: 'verified signature', facts: signature('verified', 'signed by team-key'), spec: specWith(() => undefined) }],
  fail: [
    { name: 'no authorities configured', sites: ['containers[0]'], spec: specWith(() => undefined) },
    { name: 'signature does not verify', facts: signature('unverified', 'no signature from authority "team-key"'), sites: ['containers[0]'], spec: specWith(() => undefined) },
    { name: 'registry error', facts: signature('error', 'registry.example.com: 503'), sites: ['containers[0]'], spec: specWith(() => undefined) },
  ],
};
