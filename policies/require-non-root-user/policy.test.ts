import { describe, expect, it } from 'vitest';
import { runFixtures } from '../../test/helpers/fixtures.js';
import { engineWith } from '../../test/helpers/engine.js';
import { imageUser, TEST_DIGEST } from '../../test/helpers/facts.js';
import { evaluateObject, KINDS, objectOf, specWith } from '../../test/helpers/pods.js';
import { fixtures } from './fixtures.js';

runFixtures('require-non-root-user', fixtures);

describe('require-non-root-user messages', () => {
  const pod = KINDS[0]!;
  it('names the inspected image digest and the field to set', async () => {
    const engine = engineWith({ 'require-non-root-user': {} }, { facts: imageUser('0') });
    const spec = specWith((s) => { delete s.securityContext.runAsUser; delete s.securityContext.runAsNonRoot; });
    const decision = await evaluateObject(engine, objectOf(pod, spec));
    expect(decision.violations[0]?.problem).toContain(TEST_DIGEST);
    expect(decision.violations[0]?.fix).toContain('securityContext.runAsUser');
  });
});
