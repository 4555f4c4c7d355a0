import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';

const full = { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: 1, memory: '256Mi' } };
const resources = (s: any, r: object) => (s.containers[0].resources = r);

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'requests and limits for cpu and memory', spec: specWith((s) => resources(s, full)) },
    { name: 'only memory required by parameter', params: { requests: ['memory'], limits: ['memory'] }, spec: specWith((s) => resources(s, { requests: { memory: '1Gi' }, limits: { memory: '1Gi' } })) },
    { name: 'ephemeral containers cannot set resources', podOnly: true, spec: specWith((s) => { resources(s, full); s.ephemeralContainers = [{ name: 'debug', image: 'busybox:1.36' }]; }) },
  ],
  fail: [
    { name: 'no resources', sites: ['containers[0]'], spec: specWith(() => undefined) },
    { name: 'no cpu limit', sites: ['containers[0]'], spec: specWith((s) => resources(s, { requests: full.requests, limits: { memory: '256Mi' } })) },
    { name: 'ephemeral-storage required by parameter', params: { limits: ['ephemeral-storage'], requests: [] }, sites: ['containers[0]'], spec: specWith((s) => resources(s, full)) },
    { name: 'init container without resources', sites: ['initContainers[0]'], spec: specWith((s) => { resources(s, full); s.initContainers = [{ name: 'init', image: 'busybox:1.36' }]; }) },
  ],
};
