// restrict-apparmor
// Rule (Pod Security Standards baseline; PSA check appArmorProfile): "On supported hosts, the 'runtime/default'
// AppArmor profile is applied by default. The baseline policy should prevent overriding or disabling the default
// AppArmor profile, or restrict overrides to an allowed set of profiles."
// Restricted fields: metadata.annotations['container.apparmor.security.beta.kubernetes.io/*'], allowed values
// 'runtime/default', 'localhost/*', empty, undefined; spec.securityContext.appArmorProfile.type and
// spec.containers[*], spec.initContainers[*], spec.ephemeralContainers[*] .securityContext.appArmorProfile.type,
// allowed values 'RuntimeDefault', 'Localhost', undefined.
import type { CheckInput, ContainerSite, Finding, Policy } from '../../src/engine/types.js';
import { BASELINE_CONTROL, celPodMetadata, NO_PARAMS } from '../common.js';

export type AppArmorParams = Record<string, never>;

const ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';
const FIX = 'set appArmorProfile.type to RuntimeDefault or Localhost, or remove it';

const allowedType = (type: string): boolean => type === 'RuntimeDefault' || type === 'Localhost';
const allowedAnnotation = (value: string): boolean => value === '' || value === 'runtime/default' || value.startsWith('localhost/');

// Checks the pod-level profile and the deprecated per-container annotations.
function check({ pod }: CheckInput<AppArmorParams>): Finding[] {
  const out: Finding[] = [];
  const type = pod.spec.securityContext?.appArmorProfile?.type;
  if (type !== undefined && !allowedType(type)) {
    out.push({ problem: `spec.securityContext.appArmorProfile.type is ${JSON.stringify(type)}`, fix: FIX });
  }
  for (const [key, value] of Object.entries(pod.annotations)) {
    if (!key.startsWith(ANNOTATION_PREFIX) || allowedAnnotation(value)) continue;
    out.push({ problem: `annotation ${key} is ${JSON.stringify(value)}`, fix: 'set it to runtime/default or localhost/<profile>, or remove it' });
  }
  return out;
}

// Checks a container's appArmorProfile.type.
function checkContainer(site: ContainerSite): Finding | undefined {
  const type = site.container.securityContext?.appArmorProfile?.type;
  if (type === undefined || allowedType(type)) return undefined;
  return { container: site, problem: `securityContext.appArmorProfile.type is ${JSON.stringify(type)}`, fix: FIX };
}

// The rule in CEL, for the fail-safe ValidatingAdmissionPolicy: a profile whose type is absent reads as "".
const profileOk = (sc: string): string => `!has(${sc}) || !has(${sc}.appArmorProfile) || (has(${sc}.appArmorProfile.type) && ${sc}.appArmorProfile.type in ['RuntimeDefault', 'Localhost'])`;
const typeOf = (sc: string): string => `(has(${sc}.appArmorProfile.type) ? ${sc}.appArmorProfile.type : '')`;
const ANNOTATIONS = `(${celPodMetadata('annotations', '{}')})`;
const annotationBad = (k: string): string => `${k}.startsWith('${ANNOTATION_PREFIX}') && !(${ANNOTATIONS}[${k}] == '' || ${ANNOTATIONS}[${k}] == 'runtime/default' || ${ANNOTATIONS}[${k}].startsWith('localhost/'))`;
const CEL = {
  validations: [
    {
      expression: profileOk('pod.securityContext'),
      messageExpression: `'spec.securityContext.appArmorProfile.type is "' + ${typeOf('pod.securityContext')} + '"'`,
      fix: FIX,
    },
    {
      expression: `!${ANNOTATIONS}.exists(k, ${annotationBad('k')})`,
      messageExpression: `${ANNOTATIONS}.filter(k, ${annotationBad('k')}).map(k, 'annotation ' + k + ' is "' + ${ANNOTATIONS}[k] + '"').join('; ')`,
      fix: 'set it to runtime/default or localhost/<profile>, or remove it',
    },
  ],
  containerValidations: [
    {
      expression: profileOk('container.securityContext'),
      messageExpression: `'securityContext.appArmorProfile.type is "' + ${typeOf('container.securityContext')} + '"'`,
      fix: FIX,
    },
  ],
};

export const restrictAppArmor: Policy<AppArmorParams> = {
  id: 'restrict-apparmor',
  title: 'No AppArmor overrides',
  description: 'No pod or container disables AppArmor or picks a profile other than RuntimeDefault or Localhost.',
  severity: 'medium',
  ...BASELINE_CONTROL,
  ...NO_PARAMS,
  check,
  checkContainer,
  cel: CEL,
};
