import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';

const ports = (s: any, p: object[]) => (s.containers[0].ports = p);

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'container ports only', spec: specWith((s) => ports(s, [{ containerPort: 8080 }])) },
    { name: 'hostPort 0', spec: specWith((s) => ports(s, [{ containerPort: 8080, hostPort: 0 }])) },
    { name: 'allowedHostPorts parameter', params: { allowedHostPorts: [9100] }, spec: specWith((s) => ports(s, [{ containerPort: 9100, hostPort: 9100 }])) },
  ],
  fail: [
    { name: 'hostPort 80', sites: ['containers[0]'], spec: specWith((s) => ports(s, [{ containerPort: 8080, hostPort: 80 }])) },
    { name: 'hostPort not in allowedHostPorts', params: { allowedHostPorts: [9100] }, sites: ['containers[0]'], spec: specWith((s) => ports(s, [{ containerPort: 53, hostPort: 53, protocol: 'UDP' }])) },
    { name: 'init container hostPort', sites: ['initContainers[0]'], spec: specWith((s) => (s.initContainers = [{ name: 'init', image: 'busybox:1.36', ports: [{ containerPort: 1, hostPort: 1 }] }])) },
  ],
};
