// disallow-host-namespaces
// Rule (Pod Security Standards baseline; PSA check hostNamespaces): "Sharing the host network, PID, and IPC
// namespaces must be disallowed." Restricted fields: spec.hostNetwork, spec.hostPID, spec.hostIPC.
// Allowed values: undefined, false.
import type { CheckInput, Finding, Policy } from '../../src/engine/types.js';
import { BASELINE_CONTROL, NO_PARAMS } from '../common.js';

export type HostNamespacesParams = Record<string, never>;

const FIELDS = [
  ['hostNetwork', 'network'],
  ['hostPID', 'process ID'],
  ['hostIPC', 'IPC'],
] as const;

// Checks spec.hostNetwork, spec.hostPID and spec.hostIPC.
function check({ pod }: CheckInput<HostNamespacesParams>): Finding[] {
  return FIELDS.filter(([field]) => pod.spec[field] === true).map(([field, what]) => ({
    problem: `shares the host's ${what} namespace (spec.${field}: true)`,
    fix: `remove spec.${field} or set it to false`,
  }));
}

// The rule in CEL, for the fail-safe ValidatingAdmissionPolicy: one rule per field.
const CEL = {
  validations: FIELDS.map(([field, what]) => ({
    expression: `!has(pod.${field}) || pod.${field} != true`,
    message: `shares the host's ${what} namespace (spec.${field}: true)`,
    fix: `remove spec.${field} or set it to false`,
  })),
};

export const disallowHostNamespaces: Policy<HostNamespacesParams> = {
  id: 'disallow-host-namespaces',
  title: 'No host namespaces',
  description: 'No pod shares the host network, PID or IPC namespace (hostNetwork, hostPID, hostIPC).',
  severity: 'high',
  ...BASELINE_CONTROL,
  ...NO_PARAMS,
  check,
  cel: CEL,
};
