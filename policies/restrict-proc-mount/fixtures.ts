import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';

const sc = (s: any) => s.containers[0].securityContext;

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'unset', spec: specWith(() => undefined) },
    { name: 'Default', spec: specWith((s) => (sc(s).procMount = 'Default')) },
    { name: 'Unmasked in a user namespace (baseline)', spec: specWith((s) => { s.hostUsers = false; sc(s).procMount = 'Unmasked'; }) },
  ],
  fail: [
    { name: 'Unmasked', sites: ['containers[0]'], spec: specWith((s) => (sc(s).procMount = 'Unmasked')) },
    { name: 'Unmasked in a user namespace (restricted)', params: { level: 'restricted' }, sites: ['containers[0]'], spec: specWith((s) => { s.hostUsers = false; sc(s).procMount = 'Unmasked'; }) },
    { name: 'init container Unmasked', sites: ['initContainers[0]'], spec: specWith((s) => (s.initContainers = [{ name: 'init', image: 'busybox:1.36', securityContext: { procMount: 'Unmasked' } }])) },
  ],
};
