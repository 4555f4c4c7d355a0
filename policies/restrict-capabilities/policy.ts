// restrict-capabilities
// Rule (Pod Security Standards baseline; PSA check capabilities_baseline): "Adding NET_RAW or capabilities beyond
// the default set must be disallowed." Restricted fields: spec.containers[*], spec.initContainers[*] (and ephemeral
// containers) .securityContext.capabilities.add. Allowed values: undefined / empty, values from the default set
// "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP",
// "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT". Names compare exactly ("chown" and "CAP_CHOWN" are not in the set).
import type { CheckInput, ContainerSite, Finding, Policy } from '../../src/engine/types.js';
import { BASELINE_CONTROL, NAME_LIST } from '../common.js';

export interface CapabilitiesParams {
  readonly allowedCapabilities: readonly string[];
}

export const BASELINE_CAPABILITIES = [
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD',
  'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
];

// Checks a container's capabilities.add against the allowed names.
function checkContainer(site: ContainerSite, { params }: CheckInput<CapabilitiesParams>): Finding[] | undefined {
  const add = site.container.securityContext?.capabilities?.add;
  if (!add || add.every((name) => params.allowedCapabilities.includes(name))) return undefined;
  return add
    .filter((name) => !params.allowedCapabilities.includes(name))
    .map((name) => ({
      container: site,
      problem: `adds capability "${name}", which is not in the allowed set`,
      fix: `remove "${name}" from securityContext.capabilities.add (allowed: ${params.allowedCapabilities.join(', ') || 'none'})`,
    }));
}

// The rule in CEL, for the fail-safe ValidatingAdmissionPolicy.
const ADD = 'container.securityContext.capabilities.add';
const CEL = {
  containerValidations: [
    {
      expression: `!has(container.securityContext) || !has(container.securityContext.capabilities) || !has(${ADD}) || ${ADD}.all(n, n in params.allowedCapabilities)`,
      messageExpression: `${ADD}.filter(n, !(n in params.allowedCapabilities)).map(n, 'adds capability "' + n + '", which is not in the allowed set').join('; ') + ' (allowed: ' + (size(params.allowedCapabilities) > 0 ? params.allowedCapabilities.join(', ') : 'none') + ')'`,
      fix: 'remove it from securityContext.capabilities.add',
    },
  ],
};

export const restrictCapabilities: Policy<CapabilitiesParams> = {
  id: 'restrict-capabilities',
  title: 'Only default capabilities added',
  description: 'No container adds a capability beyond the container runtime default set (Pod Security Standards baseline).',
  severity: 'high',
  ...BASELINE_CONTROL,
  paramsSchema: {
    allowedCapabilities: NAME_LIST,
  },
  defaults: { allowedCapabilities: BASELINE_CAPABILITIES },
  checkContainer,
  cel: CEL,
};
