// restrict-seccomp
// Rule (Pod Security Standards; PSA checks seccompProfile_baseline and seccompProfile_restricted).
// baseline: "If seccomp profiles are specified, only runtime default and localhost profiles are allowed."
// restricted: "Seccomp profiles must be specified, and only runtime default and localhost profiles are allowed."
// Restricted fields: spec.securityContext.seccompProfile.type and spec.containers[*], spec.initContainers[*]
// (and ephemeral containers) .securityContext.seccompProfile.type. Allowed values: 'RuntimeDefault', 'Localhost'
// (baseline: also undefined). "Container-level fields may be undefined if pod-level field is specified."
// Windows pods are exempt at level restricted (1.25+): they cannot set a seccomp profile.
import type { CheckInput, ContainerSite, Finding, PodSecurityLevel, Policy } from '../../src/engine/types.js';
import { BASELINE_CONTROL, LEVEL_PARAM } from '../common.js';

export interface SeccompParams {
  readonly level: PodSecurityLevel;
}

const valid = (type: string): boolean => type === 'RuntimeDefault' || type === 'Localhost';
const FIX = 'set seccompProfile.type to RuntimeDefault (or Localhost with a localhostProfile)';

// Checks the pod-level seccompProfile.
function check({ pod, params }: CheckInput<SeccompParams>): Finding[] {
  if (pod.windows && params.level === 'restricted') return [];
  const type = pod.spec.securityContext?.seccompProfile?.type;
  if (type === undefined || valid(type)) return [];
  return [{ problem: `spec.securityContext.seccompProfile.type is ${JSON.stringify(type)}`, fix: FIX.replace('set ', 'set spec.securityContext.') }];
}

// Checks a container's seccompProfile, and at level restricted that one applies (its own or the pod's).
function checkContainer(site: ContainerSite, { pod, params }: CheckInput<SeccompParams>): Finding | undefined {
  if (pod.windows && params.level === 'restricted') return undefined;
  const type = site.container.securityContext?.seccompProfile?.type;
  if (type !== undefined) {
    return valid(type) ? undefined : { container: site, problem: `securityContext.seccompProfile.type is ${JSON.stringify(type)}`, fix: FIX.replace('set ', 'set securityContext.') };
  }
  if (params.level === 'baseline') return undefined;
  const podType = pod.spec.securityContext?.seccompProfile?.type;
  if (podType !== undefined && valid(podType)) return undefined;
  return { container: site, problem: 'runs without a seccomp profile (none on the container or the pod)', fix: 'set spec.securityContext.seccompProfile.type: RuntimeDefault (or on the container)' };
}

// The rule in CEL, for the fail-safe ValidatingAdmissionPolicy: a profile whose type is absent reads as "".
const EXEMPT = "(params.level == 'restricted' && has(pod.os) && has(pod.os.name) && pod.os.name == 'windows')";
const validType = (sc: string): string => `has(${sc}.seccompProfile.type) && ${sc}.seccompProfile.type in ['RuntimeDefault', 'Localhost']`;
const typeOf = (sc: string): string => `(has(${sc}.seccompProfile.type) ? ${sc}.seccompProfile.type : '')`;
const POD_SC = 'pod.securityContext';
const C_SC = 'container.securityContext';
const CEL = {
  validations: [
    {
      expression: `${EXEMPT} || !has(${POD_SC}) || !has(${POD_SC}.seccompProfile) || (${validType(POD_SC)})`,
      messageExpression: `'spec.securityContext.seccompProfile.type is "' + ${typeOf(POD_SC)} + '"'`,
      fix: FIX.replace('set ', 'set spec.securityContext.'),
    },
  ],
  containerValidations: [
    {
      expression: `${EXEMPT} || !has(${C_SC}) || !has(${C_SC}.seccompProfile) || (${validType(C_SC)})`,
      messageExpression: `'securityContext.seccompProfile.type is "' + ${typeOf(C_SC)} + '"'`,
      fix: FIX.replace('set ', 'set securityContext.'),
    },
    {
      expression: `params.level != 'restricted' || ${EXEMPT} || (has(${C_SC}) && has(${C_SC}.seccompProfile)) || (has(${POD_SC}) && has(${POD_SC}.seccompProfile) && ${validType(POD_SC)})`,
      message: 'runs without a seccomp profile (none on the container or the pod)',
      fix: 'set spec.securityContext.seccompProfile.type: RuntimeDefault (or on the container)',
    },
  ],
};

export const restrictSeccomp: Policy<SeccompParams> = {
  id: 'restrict-seccomp',
  title: 'Seccomp profile',
  description: 'No pod or container sets a seccomp profile other than RuntimeDefault or Localhost; at level restricted every container has one.',
  severity: 'medium',
  ...BASELINE_CONTROL,
  ...LEVEL_PARAM,
  check,
  checkContainer,
  cel: CEL,
};
