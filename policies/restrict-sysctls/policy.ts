// restrict-sysctls
// Rule (Pod Security Standards baseline; PSA check sysctls): "Sysctls can disable security mechanisms or affect all
// containers on a host, and should be disallowed except for an allowed 'safe' subset." Restricted field:
// spec.securityContext.sysctls[*].name. Allowed values (1.37): undefined/empty, kernel.shm_rmid_forced,
// net.ipv4.ip_local_port_range, net.ipv4.ip_unprivileged_port_start, net.ipv4.tcp_syncookies,
// net.ipv4.ping_group_range, net.ipv4.ip_local_reserved_ports, net.ipv4.tcp_keepalive_time, net.ipv4.tcp_fin_timeout,
// net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes, net.ipv4.tcp_rmem, net.ipv4.tcp_wmem,
// net.ipv4.tcp_slow_start_after_idle, net.ipv4.tcp_notsent_lowat.
import type { CheckInput, Finding, Policy } from '../../src/engine/types.js';
import { BASELINE_CONTROL, NAME_LIST } from '../common.js';

export interface SysctlsParams {
  readonly allowedSysctls: readonly string[];
}

export const SAFE_SYSCTLS = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
  'net.ipv4.tcp_slow_start_after_idle',
  'net.ipv4.tcp_notsent_lowat',
];

// Checks the pod's sysctls against the safe set.
function check({ pod, params }: CheckInput<SysctlsParams>): Finding[] {
  return (pod.spec.securityContext?.sysctls ?? [])
    .filter((s) => !params.allowedSysctls.includes(s.name))
    .map((s) => ({
      problem: `sets sysctl ${JSON.stringify(s.name)}, which is not in the safe set`,
      fix: `remove ${s.name} from spec.securityContext.sysctls (set node-level sysctls on the node instead)`,
    }));
}

// The rule in CEL, for the fail-safe ValidatingAdmissionPolicy.
const CEL = {
  validations: [
    {
      expression: '!has(pod.securityContext) || !has(pod.securityContext.sysctls) || pod.securityContext.sysctls.all(s, s.name in params.allowedSysctls)',
      messageExpression: "pod.securityContext.sysctls.filter(s, !(s.name in params.allowedSysctls)).map(s, 'sets sysctl \"' + s.name + '\", which is not in the safe set').join('; ')",
      fix: 'remove it from spec.securityContext.sysctls (set node-level sysctls on the node instead)',
    },
  ],
};

export const restrictSysctls: Policy<SysctlsParams> = {
  id: 'restrict-sysctls',
  title: 'Safe sysctls only',
  description: 'No pod sets a sysctl outside the safe, namespaced set.',
  severity: 'medium',
  ...BASELINE_CONTROL,
  paramsSchema: {
    allowedSysctls: NAME_LIST,
  },
  defaults: { allowedSysctls: SAFE_SYSCTLS },
  check,
  cel: CEL,
};
