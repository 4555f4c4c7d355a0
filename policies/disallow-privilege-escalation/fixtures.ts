import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';

const sc = (s: any) => s.containers[0].securityContext;

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'allowPrivilegeEscalation false', spec: specWith(() => undefined) },
    { name: 'windows pods are exempt', podOnly: true, spec: specWith((s) => { s.os = { name: 'windows' }; delete s.containers[0].securityContext; }) },
  ],
  fail: [
    { name: 'unset', sites: ['containers[0]'], spec: specWith((s) => delete sc(s).allowPrivilegeEscalation) },
    { name: 'true', sites: ['containers[0]'], spec: specWith((s) => (sc(s).allowPrivilegeEscalation = true)) },
    { name: 'init container unset', sites: ['initContainers[0]'], spec: specWith((s) => (s.initContainers = [{ name: 'init', image: 'busybox:1.36' }])) },
  ],
};
