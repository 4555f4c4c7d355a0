import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';

const RUN_TO_COMPLETION = ['Job', 'CronJob'];
const probes = (c: any) => {
  c.livenessProbe = { httpGet: { path: '/healthz', port: 8080 } };
  c.readinessProbe = { tcpSocket: { port: 8080 } };
};

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'liveness and readiness', spec: specWith((s) => probes(s.containers[0])) },
    { name: 'init containers need none', spec: specWith((s) => { probes(s.containers[0]); s.initContainers = [{ name: 'migrate', image: 'app:1' }]; }) },
    { name: 'restartPolicy Never runs to completion', spec: specWith((s) => (s.restartPolicy = 'Never')) },
    { name: 'startup only when asked', params: { probes: ['startup'] }, spec: specWith((s) => (s.containers[0].startupProbe = { exec: { command: ['true'] } })) },
  ],
  fail: [
    { name: 'no probes', skipKinds: RUN_TO_COMPLETION, sites: ['containers[0]'], spec: specWith(() => undefined) },
    { name: 'readiness only', skipKinds: RUN_TO_COMPLETION, sites: ['containers[0]'], spec: specWith((s) => (s.containers[0].readinessProbe = { httpGet: { path: '/', port: 80 } })) },
    { name: 'a probe with no action', skipKinds: RUN_TO_COMPLETION, sites: ['containers[0]'], spec: specWith((s) => { probes(s.containers[0]); s.containers[0].livenessProbe = { periodSeconds: 10 }; }) },
    { name: 'restartable sidecar init container', skipKinds: RUN_TO_COMPLETION, sites: ['initContainers[0]'], spec: specWith((s) => { probes(s.containers[0]); s.initContainers = [{ name: 'proxy', image: 'envoy:1.31', restartPolicy: 'Always' }]; }) },
  ],
};
