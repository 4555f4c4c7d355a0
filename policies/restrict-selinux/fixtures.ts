import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';

const sc = (s: any) => s.containers[0].securityContext;

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'unset', spec: specWith(() => undefined) },
    { name: 'container_t with a level', spec: specWith((s) => { s.securityContext.seLinuxOptions = { level: 's0:c123,c456' }; sc(s).seLinuxOptions = { type: 'container_t' }; }) },
    { name: 'container_engine_t', spec: specWith((s) => (sc(s).seLinuxOptions = { type: 'container_engine_t' })) },
  ],
  fail: [
    { name: 'pod type spc_t', sites: ['pod'], spec: specWith((s) => (s.securityContext.seLinuxOptions = { type: 'spc_t' })) },
    { name: 'container user set', sites: ['containers[0]'], spec: specWith((s) => (sc(s).seLinuxOptions = { user: 'system_u' })) },
    { name: 'container role set', sites: ['containers[0]'], spec: specWith((s) => (sc(s).seLinuxOptions = { role: 'system_r' })) },
    { name: 'type outside allowedTypes parameter', params: { allowedTypes: ['container_t'] }, sites: ['containers[0]'], spec: specWith((s) => (sc(s).seLinuxOptions = { type: 'container_kvm_t' })) },
  ],
};
