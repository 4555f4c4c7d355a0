// restrict-proc-mount
// Rule (Pod Security Standards; PSA checks procMount and procMount_restricted): "The default /proc masks are set up
// to reduce attack surface, and should be required by the baseline policy unless the pod is in a user namespace
// ("hostUsers: false")" and "should be required by the restricted profile". Restricted fields: spec.containers[*],
// spec.initContainers[*] (and ephemeral containers) .securityContext.procMount. Allowed values: undefined/null,
// "Default"; at level baseline any value when spec.hostUsers is false (1.35+).
import type { CheckInput, ContainerSite, Finding, PodSecurityLevel, Policy } from '../../src/engine/types.js';
import { BASELINE_CONTROL, LEVEL_PARAM } from '../common.js';

export interface ProcMountParams {
  readonly level: PodSecurityLevel;
}

// Checks a container's procMount.
function checkContainer(site: ContainerSite, { pod, params }: CheckInput<ProcMountParams>): Finding | undefined {
  const procMount = site.container.securityContext?.procMount;
  if (procMount === undefined || procMount === 'Default') return undefined;
  if (params.level === 'baseline' && pod.spec.hostUsers === false) return undefined;
  const userns = params.level === 'baseline' ? ', or run the pod in a user namespace (spec.hostUsers: false)' : '';
  return { container: site, problem: `securityContext.procMount is ${JSON.stringify(procMount)}, which unmasks /proc`, fix: `remove securityContext.procMount or set it to Default${userns}` };
}

// The rule in CEL, for the fail-safe ValidatingAdmissionPolicy.
const CEL = {
  containerValidations: [
    {
      expression: "!has(container.securityContext) || !has(container.securityContext.procMount) || container.securityContext.procMount == 'Default' || (params.level == 'baseline' && has(pod.hostUsers) && pod.hostUsers == false)",
      messageExpression: `'securityContext.procMount is "' + container.securityContext.procMount + '", which unmasks /proc'`,
      fix: 'remove securityContext.procMount or set it to Default (at level baseline, or run the pod in a user namespace: spec.hostUsers: false)',
    },
  ],
};

export const restrictProcMount: Policy<ProcMountParams> = {
  id: 'restrict-proc-mount',
  title: 'Default /proc mount',
  description: 'No container unmasks /proc (procMount other than Default); at level baseline, pods with hostUsers: false may.',
  severity: 'medium',
  ...BASELINE_CONTROL,
  ...LEVEL_PARAM,
  checkContainer,
  cel: CEL,
};
