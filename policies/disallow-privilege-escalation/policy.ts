// disallow-privilege-escalation
// Rule (Pod Security Standards restricted; PSA check allowPrivilegeEscalation): "Privilege escalation (such as via
// set-user-ID or set-group-ID file mode) should not be allowed." Restricted fields: spec.containers[*],
// spec.initContainers[*] (and ephemeral containers) .securityContext.allowPrivilegeEscalation. Allowed values: false.
// Windows pods are exempt (1.25+): the field cannot be set on them.
import type { ContainerSite, Finding, Policy } from '../../src/engine/types.js';
import { RESTRICTED_CONTROL, NO_PARAMS } from '../common.js';

export type PrivilegeEscalationParams = Record<string, never>;

// Checks that a container sets allowPrivilegeEscalation: false.
function checkContainer(site: ContainerSite): Finding | undefined {
  const value = site.container.securityContext?.allowPrivilegeEscalation;
  if (value === false) return undefined;
  return { container: site, problem: `allows privilege escalation (allowPrivilegeEscalation: ${value === undefined ? 'unset' : 'true'})`, fix: 'set securityContext.allowPrivilegeEscalation: false' };
}

// The rule in CEL, for the fail-safe ValidatingAdmissionPolicy.
const CEL = {
  containerValidations: [
    {
      expression: 'has(container.securityContext) && has(container.securityContext.allowPrivilegeEscalation) && container.securityContext.allowPrivilegeEscalation == false',
      messageExpression: "'allows privilege escalation (allowPrivilegeEscalation: ' + (has(container.securityContext) && has(container.securityContext.allowPrivilegeEscalation) ? 'true' : 'unset') + ')'",
      fix: 'set securityContext.allowPrivilegeEscalation: false',
    },
  ],
};

export const disallowPrivilegeEscalation: Policy<PrivilegeEscalationParams> = {
  id: 'disallow-privilege-escalation',
  title: 'No privilege escalation',
  description: 'Every container sets securityContext.allowPrivilegeEscalation: false.',
  severity: 'medium',
  ...RESTRICTED_CONTROL,
  appliesToWindows: false,
  ...NO_PARAMS,
  checkContainer,
  cel: CEL,
};
