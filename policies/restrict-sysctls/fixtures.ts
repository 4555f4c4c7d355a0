import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';

const sysctls = (s: any, list: object[]) => (s.securityContext.sysctls = list);

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'none', spec: specWith(() => undefined) },
    { name: 'safe sysctls', spec: specWith((s) => sysctls(s, [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }, { name: 'net.ipv4.tcp_keepalive_time', value: '600' }])) },
  ],
  fail: [
    { name: 'kernel.msgmax', sites: ['pod'], spec: specWith((s) => sysctls(s, [{ name: 'kernel.msgmax', value: '65536' }])) },
    { name: 'safe set narrowed by parameter', params: { allowedSysctls: ['kernel.shm_rmid_forced'] }, sites: ['pod'], spec: specWith((s) => sysctls(s, [{ name: 'net.ipv4.tcp_syncookies', value: '1' }])) },
  ],
};
