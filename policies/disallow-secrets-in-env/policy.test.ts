import { describe, expect, it } from 'vitest';
import { runFixtures } from '../../test/helpers/fixtures.js';
import { engineWith } from '../../test/helpers/engine.js';
import { factsFor, TEST_DIGEST } from '../../test/helpers/facts.js';
import { KINDS, evaluateObject, objectOf, specWith } from '../../test/helpers/pods.js';
import { fixtures } from './fixtures.js';

runFixtures('disallow-secrets-in-env', fixtures);

describe('disallow-secrets-in-env on a cached image Env', () => {
  it('reports the same finding on every review of the image (the Env is scanned once)', async () => {
    const token = ['ghp', '_', 'Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2'].join('');
    const env = ['PATH=/usr/bin', `GITHUB_TOKEN=${token}`];
    const engine = engineWith({ 'disallow-secrets-in-env': {} }, { facts: factsFor(() => ({ status: 'ok', digest: TEST_DIGEST, user: '1000', platform: 'linux/amd64', env, compressedSize: 1 })) });
    const pod = objectOf(KINDS[0]!, specWith(() => undefined));
    const first = await evaluateObject(engine, pod);
    const second = await evaluateObject(engine, pod);
    expect(first.allowed).toBe(false);
    expect(first.violations.map((v) => v.message)).toEqual([expect.stringContaining('sets Env GITHUB_TOKEN to what looks like')]);
    expect(second.violations.map((v) => v.message)).toEqual(first.violations.map((v) => v.message));
    expect(second.message).not.toContain(token);
  });
});
