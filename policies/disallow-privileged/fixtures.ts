import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';

const sc = (s: any) => s.containers[0].securityContext;

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'unset', spec: specWith(() => undefined) },
    { name: 'privileged false', spec: specWith((s) => (sc(s).privileged = false)) },
  ],
  fail: [
    { name: 'privileged container', sites: ['containers[0]'], spec: specWith((s) => (sc(s).privileged = true)) },
    { name: 'privileged init container', sites: ['initContainers[0]'], spec: specWith((s) => (s.initContainers = [{ name: 'init', image: 'busybox:1.36', securityContext: { privileged: true } }])) },
    { name: 'privileged ephemeral container', podOnly: true, sites: ['ephemeralContainers[0]'], spec: specWith((s) => (s.ephemeralContainers = [{ name: 'debug', image: 'busybox:1.36', securityContext: { privileged: true } }])) },
  ],
};
