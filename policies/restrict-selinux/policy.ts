// restrict-selinux
// Rule (Pod Security Standards baseline; PSA check seLinuxOptions): "Setting the SELinux type is restricted, and
// setting a custom SELinux user or role option is forbidden." Restricted fields: spec.securityContext.seLinuxOptions
// and spec.containers[*], spec.initContainers[*] (and ephemeral containers) .securityContext.seLinuxOptions:
// .type, allowed values undefined/empty, container_t, container_init_t, container_kvm_t, container_engine_t (1.31+);
// .user and .role, allowed values undefined/empty.
import type { CheckInput, ContainerSite, Finding, Policy } from '../../src/engine/types.js';
import type { SELinuxOptions } from '../../src/workload/k8s.js';
import { BASELINE_CONTROL, NAME_LIST } from '../common.js';

export interface SELinuxParams {
  readonly allowedTypes: readonly string[];
}

// What is wrong with these options (type not allowed, user or role set).
function problems(opts: SELinuxOptions | undefined, allowed: readonly string[]): string[] {
  if (!opts) return [];
  const out: string[] = [];
  if (opts.type !== '' && !allowed.includes(opts.type)) out.push(`type ${JSON.stringify(opts.type)}`);
  if (opts.user !== '') out.push(`user ${JSON.stringify(opts.user)}`);
  if (opts.role !== '') out.push(`role ${JSON.stringify(opts.role)}`);
  return out;
}

const fix = (where: string, allowed: readonly string[]) => `remove ${where}.seLinuxOptions user and role, and use a type among ${allowed.join(', ')} (or none)`;

// Checks the pod-level seLinuxOptions.
function check({ pod, params }: CheckInput<SELinuxParams>): Finding[] {
  const found = problems(pod.spec.securityContext?.seLinuxOptions, params.allowedTypes);
  if (found.length === 0) return [];
  return [{ problem: `spec.securityContext.seLinuxOptions sets ${found.join(', ')}`, fix: fix('spec.securityContext', params.allowedTypes) }];
}

// Checks a container's seLinuxOptions.
function checkContainer(site: ContainerSite, { params }: CheckInput<SELinuxParams>): Finding | undefined {
  const found = problems(site.container.securityContext?.seLinuxOptions, params.allowedTypes);
  if (found.length === 0) return undefined;
  return { container: site, problem: `securityContext.seLinuxOptions sets ${found.join(', ')}`, fix: fix('securityContext', params.allowedTypes) };
}

// The rule in CEL, for the fail-safe ValidatingAdmissionPolicy: an absent type, user or role reads as "".
const field = (o: string, f: string): string => `(has(${o}.${f}) ? ${o}.${f} : '')`;
const selinuxProblems = (o: string): string =>
  `[${field(o, 'type')} != '' && !(${field(o, 'type')} in params.allowedTypes) ? 'type "' + ${field(o, 'type')} + '"' : '', ${field(o, 'user')} != '' ? 'user "' + ${field(o, 'user')} + '"' : '', ${field(o, 'role')} != '' ? 'role "' + ${field(o, 'role')} + '"' : ''].filter(p, p != '')`;
const selinuxRule = (sc: string, where: string) => ({
  expression: `!has(${sc}) || !has(${sc}.seLinuxOptions) || size(${selinuxProblems(`${sc}.seLinuxOptions`)}) == 0`,
  messageExpression: `'${where}.seLinuxOptions sets ' + ${selinuxProblems(`${sc}.seLinuxOptions`)}.join(', ')`,
  fix: `remove ${where}.seLinuxOptions user and role, and use an allowed type (policies.restrict-selinux.allowedTypes) or none`,
});
const CEL = {
  validations: [selinuxRule('pod.securityContext', 'spec.securityContext')],
  containerValidations: [selinuxRule('container.securityContext', 'securityContext')],
};

export const restrictSELinux: Policy<SELinuxParams> = {
  id: 'restrict-selinux',
  title: 'No custom SELinux options',
  description: 'No pod or container sets an SELinux user or role, or a type outside the container types.',
  severity: 'medium',
  ...BASELINE_CONTROL,
  paramsSchema: {
    allowedTypes: NAME_LIST,
  },
  defaults: { allowedTypes: ['container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'] },
  check,
  checkContainer,
  cel: CEL,
};
