// disallow-host-process
// Rule (Pod Security Standards baseline; PSA check windowsHostProcess): "Pod and containers must not set
// securityContext.windowsOptions.hostProcess to true." Restricted fields: spec.securityContext.windowsOptions.hostProcess,
// spec.containers[*], spec.initContainers[*] (and, as PSA visits them, spec.ephemeralContainers[*])
// .securityContext.windowsOptions.hostProcess. Allowed values: undefined / false.
import type { CheckInput, ContainerSite, Finding, Policy } from '../../src/engine/types.js';
import { BASELINE_CONTROL, NO_PARAMS } from '../common.js';

export type HostProcessParams = Record<string, never>;

const FIX = 'remove windowsOptions.hostProcess (a HostProcess container runs on the node with its privileges)';

// Checks the pod-level windowsOptions.hostProcess.
function check({ pod }: CheckInput<HostProcessParams>): Finding[] {
  if (pod.spec.securityContext?.windowsOptions?.hostProcess !== true) return [];
  return [{ problem: 'spec.securityContext.windowsOptions.hostProcess is true', fix: `set it to false or ${FIX}` }];
}

// Checks a container's windowsOptions.hostProcess.
function checkContainer(site: ContainerSite): Finding | undefined {
  if (site.container.securityContext?.windowsOptions?.hostProcess !== true) return undefined;
  return { container: site, problem: 'securityContext.windowsOptions.hostProcess is true', fix: `set it to false or ${FIX}` };
}

const HOST_PROCESS = (at: string) => `!has(${at}.securityContext) || !has(${at}.securityContext.windowsOptions) || !has(${at}.securityContext.windowsOptions.hostProcess) || ${at}.securityContext.windowsOptions.hostProcess != true`;

// The rules in CEL, for the fail-safe ValidatingAdmissionPolicy.
const CEL = {
  validations: [{ expression: HOST_PROCESS('pod'), message: 'spec.securityContext.windowsOptions.hostProcess is true', fix: `set it to false or ${FIX}` }],
  containerValidations: [{ expression: HOST_PROCESS('container'), message: 'securityContext.windowsOptions.hostProcess is true', fix: `set it to false or ${FIX}` }],
};

export const disallowHostProcess: Policy<HostProcessParams> = {
  id: 'disallow-host-process',
  title: 'No Windows HostProcess containers',
  description: 'No pod or container sets securityContext.windowsOptions.hostProcess: true.',
  severity: 'high',
  ...BASELINE_CONTROL,
  ...NO_PARAMS,
  check,
  checkContainer,
  cel: CEL,
};
