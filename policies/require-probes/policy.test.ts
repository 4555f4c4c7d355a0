import { describe, expect, it } from 'vitest';
import { runFixtures } from '../../test/helpers/fixtures.js';
import { engineWith } from '../../test/helpers/engine.js';
import { evaluateObject, KINDS, objectOf, specWith } from '../../test/helpers/pods.js';
import { fixtures } from './fixtures.js';

runFixtures('require-probes', fixtures);

describe('require-probes on pods that run to completion', () => {
  const noProbes = specWith(() => undefined);
  it('leaves Jobs, CronJobs and Pods owned by a Job alone', async () => {
    const engine = engineWith({ 'require-probes': {} });
    for (const kind of KINDS.filter((k) => k.kind === 'Job' || k.kind === 'CronJob')) {
      expect((await evaluateObject(engine, objectOf(kind, noProbes))).allowed).toBe(true);
    }
    const pod = objectOf(KINDS[0]!, noProbes);
    pod.metadata.ownerReferences = [{ apiVersion: 'batch/v1', kind: 'Job', name: 'j', uid: 'u' }];
    expect((await evaluateObject(engine, pod)).allowed).toBe(true);
  });
});
