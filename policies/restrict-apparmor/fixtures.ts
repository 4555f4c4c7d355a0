import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';

const sc = (s: any) => s.containers[0].securityContext;
// fixtures pass through every pod-carrying kind; annotations sit on the Pod (podOnly) for simplicity
export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'unset', spec: specWith(() => undefined) },
    { name: 'RuntimeDefault on pod, Localhost on container', spec: specWith((s) => { s.securityContext.appArmorProfile = { type: 'RuntimeDefault' }; sc(s).appArmorProfile = { type: 'Localhost', localhostProfile: 'k8s-app' }; }) },
  ],
  fail: [
    { name: 'pod Unconfined', sites: ['pod'], spec: specWith((s) => (s.securityContext.appArmorProfile = { type: 'Unconfined' })) },
    { name: 'container Unconfined', sites: ['containers[0]'], spec: specWith((s) => (sc(s).appArmorProfile = { type: 'Unconfined' })) },
    { name: 'init container Unconfined', sites: ['initContainers[0]'], spec: specWith((s) => (s.initContainers = [{ name: 'init', image: 'busybox:1.36', securityContext: { appArmorProfile: { type: 'Unconfined' } } }])) },
  ],
};
