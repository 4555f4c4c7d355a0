import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';

const caps = (s: any, c: object) => (s.containers[0].securityContext.capabilities = c);

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'adds nothing', spec: specWith(() => undefined) },
    { name: 'adds default-set capabilities without dropping', spec: specWith((s) => caps(s, { add: ['CHOWN', 'NET_BIND_SERVICE', 'SETUID'] })) },
    { name: 'allowedCapabilities parameter', params: { allowedCapabilities: ['NET_ADMIN'] }, spec: specWith((s) => caps(s, { add: ['NET_ADMIN'] })) },
  ],
  fail: [
    { name: 'adds NET_RAW', sites: ['containers[0]'], spec: specWith((s) => caps(s, { add: ['NET_RAW'] })) },
    { name: 'adds SYS_ADMIN after dropping ALL', sites: ['containers[0]'], spec: specWith((s) => caps(s, { drop: ['ALL'], add: ['SYS_ADMIN'] })) },
    { name: 'lowercase name is not in the set', sites: ['containers[0]'], spec: specWith((s) => caps(s, { add: ['chown'] })) },
    { name: 'CAP_ prefixed name is not in the set', sites: ['containers[0]'], spec: specWith((s) => caps(s, { add: ['CAP_CHOWN'] })) },
    { name: 'init container adds SYS_PTRACE', sites: ['initContainers[0]'], spec: specWith((s) => (s.initContainers = [{ name: 'init', image: 'busybox:1.36', securityContext: { capabilities: { add: ['SYS_PTRACE'] } } }])) },
  ],
};
