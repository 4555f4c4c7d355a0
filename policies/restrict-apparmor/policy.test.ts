import { describe, expect, it } from 'vitest';
import { engineWith } from '../../test/helpers/engine.js';
import { evaluateObject, specWith } from '../../test/helpers/pods.js';
import { runFixtures } from '../../test/helpers/fixtures.js';
import { fixtures } from './fixtures.js';

runFixtures('restrict-apparmor', fixtures);

describe('restrict-apparmor annotations', () => {
  const annotated = (value: string) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: { template: { metadata: { annotations: { 'container.apparmor.security.beta.kubernetes.io/app': value } }, spec: specWith(() => undefined) } },
  });

  it('refuses an unconfined profile in the pod template annotation', async () => {
    const decision = await evaluateObject(engineWith({ 'restrict-apparmor': {} }), annotated('unconfined'));
    expect(decision.allowed).toBe(false);
    expect(decision.violations.map((v) => v.problem)).toEqual(['annotation container.apparmor.security.beta.kubernetes.io/app is "unconfined"']);
  });

  it('allows runtime/default and localhost/ profiles', async () => {
    for (const value of ['runtime/default', 'localhost/k8s-app', '']) {
      expect((await evaluateObject(engineWith({ 'restrict-apparmor': {} }), annotated(value))).allowed).toBe(true);
    }
  });
});
