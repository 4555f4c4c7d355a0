import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';

const sc = (s: any) => s.containers[0].securityContext;
const restricted = { level: 'restricted' };

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'pod RuntimeDefault', spec: specWith(() => undefined) },
    { name: 'baseline: unset everywhere', spec: specWith((s) => delete s.securityContext.seccompProfile) },
    { name: 'restricted: pod RuntimeDefault', params: restricted, spec: specWith(() => undefined) },
    { name: 'restricted: container Localhost, pod unset', params: restricted, spec: specWith((s) => { delete s.securityContext.seccompProfile; sc(s).seccompProfile = { type: 'Localhost', localhostProfile: 'profiles/app.json' }; }) },
    { name: 'restricted: windows pods are exempt', podOnly: true, params: restricted, spec: specWith((s) => { s.os = { name: 'windows' }; delete s.securityContext.seccompProfile; }) },
  ],
  fail: [
    { name: 'pod Unconfined', sites: ['pod'], spec: specWith((s) => (s.securityContext.seccompProfile = { type: 'Unconfined' })) },
    { name: 'container Unconfined', sites: ['containers[0]'], spec: specWith((s) => (sc(s).seccompProfile = { type: 'Unconfined' })) },
    { name: 'restricted: unset everywhere', params: restricted, sites: ['containers[0]'], spec: specWith((s) => delete s.securityContext.seccompProfile) },
    { name: 'restricted: pod Unconfined, container unset', params: restricted, sites: ['pod', 'containers[0]'], spec: specWith((s) => (s.securityContext.seccompProfile = { type: 'Unconfined' })) },
    { name: 'init container Unconfined', sites: ['initContainers[0]'], spec: specWith((s) => (s.initContainers = [{ name: 'init', image: 'busybox:1.36', securityContext: { seccompProfile: { type: 'Unconfined' } } }])) },
  ],
};
