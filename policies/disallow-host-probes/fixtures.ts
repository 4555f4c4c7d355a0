import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';

const c0 = (s: any) => s.containers[0];

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'probes without host', spec: specWith((s) => { c0(s).livenessProbe = { httpGet: { path: '/healthz', port: 8080 } }; c0(s).readinessProbe = { tcpSocket: { port: 8080 } }; }) },
    { name: 'empty host', spec: specWith((s) => (c0(s).startupProbe = { httpGet: { path: '/', port: 8080, host: '' } })) },
  ],
  fail: [
    { name: 'liveness httpGet host', sites: ['containers[0]'], spec: specWith((s) => (c0(s).livenessProbe = { httpGet: { path: '/', port: 80, host: '169.254.169.254' } })) },
    { name: 'readiness tcpSocket host', sites: ['containers[0]'], spec: specWith((s) => (c0(s).readinessProbe = { tcpSocket: { port: 6443, host: 'kubernetes.default' } })) },
    { name: 'preStop httpGet host', sites: ['containers[0]'], spec: specWith((s) => (c0(s).lifecycle = { preStop: { httpGet: { path: '/', port: 80, host: '10.0.0.1' } } })) },
    { name: 'postStart tcpSocket host on an init container', sites: ['initContainers[0]'], spec: specWith((s) => (s.initContainers = [{ name: 'init', image: 'busybox:1.36', lifecycle: { postStart: { tcpSocket: { port: 22, host: 'node' } } } }])) },
  ],
};
