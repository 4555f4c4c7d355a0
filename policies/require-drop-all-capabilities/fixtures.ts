import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';

const caps = (s: any, c: object) => (s.containers[0].securityContext.capabilities = c);

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'drop ALL', spec: specWith(() => undefined) },
    { name: 'drop ALL, add NET_BIND_SERVICE', spec: specWith((s) => caps(s, { drop: ['ALL'], add: ['NET_BIND_SERVICE'] })) },
    { name: 'allowedCapabilities parameter', params: { allowedCapabilities: ['NET_BIND_SERVICE', 'NET_RAW'] }, spec: specWith((s) => caps(s, { drop: ['ALL'], add: ['NET_RAW'] })) },
    { name: 'drop ALL among others', spec: specWith((s) => caps(s, { drop: ['NET_RAW', 'ALL'] })) },
    { name: 'windows pods are exempt', podOnly: true, spec: specWith((s) => { s.os = { name: 'windows' }; delete s.containers[0].securityContext; }) },
  ],
  fail: [
    { name: 'no capabilities', sites: ['containers[0]'], spec: specWith((s) => delete s.containers[0].securityContext.capabilities) },
    { name: 'drop by name, not ALL', sites: ['containers[0]'], spec: specWith((s) => caps(s, { drop: ['NET_RAW', 'SYS_ADMIN', 'CHOWN'] })) },
    { name: 'lowercase all', sites: ['containers[0]'], spec: specWith((s) => caps(s, { drop: ['all'] })) },
    { name: 'adds SYS_ADMIN', sites: ['containers[0]'], spec: specWith((s) => caps(s, { drop: ['ALL'], add: ['SYS_ADMIN'] })) },
    { name: 'adds CAP_ prefixed name', sites: ['containers[0]'], spec: specWith((s) => caps(s, { drop: ['ALL'], add: ['CAP_NET_BIND_SERVICE'] })) },
    { name: 'empty allowedCapabilities', params: { allowedCapabilities: [] }, sites: ['containers[0]'], spec: specWith((s) => caps(s, { drop: ['ALL'], add: ['NET_BIND_SERVICE'] })) },
    { name: 'init container keeps capabilities', sites: ['initContainers[0]'], spec: specWith((s) => (s.initContainers = [{ name: 'init', image: 'busybox:1.36' }])) },
    {
      name: 'ephemeral container keeps capabilities',
      podOnly: true,
      sites: ['ephemeralContainers[0]'],
      spec: specWith((s) => (s.ephemeralContainers = [{ name: 'debug', image: 'busybox:1.36', securityContext: { capabilities: { add: ['SYS_PTRACE'] } } }])),
    },
  ],
};
