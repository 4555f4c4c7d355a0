// disallow-privileged
// Rule (Pod Security Standards baseline; PSA check privileged): "Privileged Pods disable most security mechanisms
// and must be disallowed." Restricted fields: spec.containers[*], spec.initContainers[*] (and ephemeral
// containers, which PSA visits too) .securityContext.privileged. Allowed values: false, undefined/null.
import type { ContainerSite, Finding, Policy } from '../../src/engine/types.js';
import { BASELINE_CONTROL, NO_PARAMS } from '../common.js';

export type PrivilegedParams = Record<string, never>;

// Checks a container's securityContext.privileged.
function checkContainer(site: ContainerSite): Finding | undefined {
  if (site.container.securityContext?.privileged !== true) return undefined;
  return { container: site, problem: 'runs privileged (securityContext.privileged: true)', fix: 'remove securityContext.privileged and add only the capabilities it needs' };
}

// The rule in CEL, for the fail-safe ValidatingAdmissionPolicy.
const CEL = {
  containerValidations: [
    {
      expression: '!has(container.securityContext) || !has(container.securityContext.privileged) || container.securityContext.privileged != true',
      message: 'runs privileged (securityContext.privileged: true)',
      fix: 'remove securityContext.privileged and add only the capabilities it needs',
    },
  ],
};

export const disallowPrivileged: Policy<PrivilegedParams> = {
  id: 'disallow-privileged',
  title: 'No privileged containers',
  description: 'No container sets securityContext.privileged: true.',
  severity: 'critical',
  ...BASELINE_CONTROL,
  ...NO_PARAMS,
  checkContainer,
  cel: CEL,
};
