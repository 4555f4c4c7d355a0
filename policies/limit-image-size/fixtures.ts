import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';
import { factsFor, imageError, TEST_DIGEST } from '../../test/helpers/facts.js';

const MIB = 1024 * 1024;
const sized = (bytes: number) => factsFor(() => ({ status: 'ok', digest: TEST_DIGEST, user: '1000', platform: 'linux/amd64', env: [], compressedSize: bytes }));

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'within the default budget', facts: sized(80 * MIB), spec: specWith(() => undefined) },
    { name: 'exactly the budget', params: { maxMiB: 100 }, facts: sized(100 * MIB), spec: specWith(() => undefined) },
    { name: 'no facts, onError allow', spec: specWith(() => undefined) },
  ],
  fail: [
    { name: 'over the default budget', facts: sized(1500 * MIB), sites: ['containers[0]'], spec: specWith(() => undefined) },
    { name: 'over a small budget', params: { maxMiB: 50 }, facts: sized(51 * MIB), sites: ['containers[0]'], spec: specWith(() => undefined) },
    { name: 'registry error, onError deny', params: { onError: 'deny' }, facts: imageError('registry.example.com: 503 Service Unavailable'), sites: ['containers[0]'], spec: specWith(() => undefined) },
  ],
};
