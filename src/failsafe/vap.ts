// Renders the fail-safe: a ValidatingAdmissionPolicy and its binding(s) for every enabled policy whose rules are
// in CEL (built-in `cel` rules and custom policies), with portcullis's denial lines as messages; the policies that
// cannot run inside the API server are listed with the reason.
import type { Config, PolicySettings } from '../config/types.js';
import type { CelRule, Policy } from '../engine/types.js';
import { POD_SPEC_PATHS, CONTAINER_LISTS } from '../workload/podspecs.js';
import { celParamsOf, failSafeRules } from './cel-rules.js';
import type { FailSafeRules } from './cel-rules.js';
import { celLiteral, forApiServer, globToRegex } from './rewrite.js';

export const VAP_API_VERSION = 'admissionregistration.k8s.io/v1';
const MANAGED = { 'app.kubernetes.io/managed-by': 'portcullis' };

export interface Inexpressible {
  readonly policy: string;
  readonly reason: string;
}

export interface FailSafe {
  readonly documents: readonly Record<string, unknown>[];
  readonly inexpressible: readonly Inexpressible[];
}

const RESOURCES: Readonly<Record<string, string>> = {
  Pod: 'pods', PodTemplate: 'podtemplates', ReplicationController: 'replicationcontrollers', Deployment: 'deployments',
  ReplicaSet: 'replicasets', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets', Job: 'jobs', CronJob: 'cronjobs',
};

// The API server's resource rules for every pod-carrying kind, grouped by API group.
function resourceRules(): Record<string, unknown>[] {
  const byGroup = new Map<string, string[]>();
  for (const key of Object.keys(POD_SPEC_PATHS)) {
    const [group = '', kind = ''] = key.split('/');
    byGroup.set(group, [...(byGroup.get(group) ?? []), RESOURCES[kind]!]);
  }
  return [...byGroup].map(([group, resources]) => ({ apiGroups: [group], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources }));
}

// A CEL expression for the pod spec of `root` (object or oldObject), whatever its kind.
export function podSpecExpression(root: string): string {
  const byPath = new Map<string, string[]>();
  for (const [key, path] of Object.entries(POD_SPEC_PATHS)) byPath.set(path.join('.'), [...(byPath.get(path.join('.')) ?? []), key.split('/')[1]!]);
  const branches = [...byPath].sort((a, b) => a[1].length - b[1].length);
  const [fallback, ...rest] = branches.reverse();
  return rest.reduce((expr, [path, kinds]) => `${kinds.map((k) => `${root}.kind == '${k}'`).join(' || ')} ? ${root}.${path} : ${expr}`, `${root}.${fallback![0]}`);
}

const quote = (s: string): string => JSON.stringify(s);

// The message as CEL: the rule's messageExpression, or its message as a literal.
function messageCel(policy: Policy, rule: CelRule): string {
  if (rule.messageExpression) return `(${forApiServer(rule.messageExpression)})`;
  return quote(rule.message ?? `failed rule: ${rule.expression}`);
}

const fixOf = (policy: Policy, rule: CelRule): string => rule.fix ?? `see the policy ${policy.id}`;

// The validation of a pod-level rule.
function podValidation(policy: Policy, rule: CelRule): Record<string, unknown> {
  return {
    expression: `variables.unchanged || (${forApiServer(rule.expression)})`,
    messageExpression: `${quote(`[${policy.id}] pod: `)} + ${messageCel(policy, rule)} + ${quote(` — ${fixOf(policy, rule)}`)}`,
    message: `[${policy.id}] pod: ${rule.message ?? 'failed rule'} — ${fixOf(policy, rule)}`,
  };
}

// The validations of a per-container rule: one per container list.
function containerValidations(policy: Policy, rule: CelRule, settings: PolicySettings): Record<string, unknown>[] {
  const skip = settings.excludeImages.length > 0 ? `container.image.matches(${quote(settings.excludeImages.flatMap((glob) => globToRegex(glob) ?? []).join('|'))}) || ` : '';
  const passes = `(${skip}(${forApiServer(rule.expression)}))`;
  return CONTAINER_LISTS.map((list) => ({
    expression: `variables.unchanged || !has(variables.pod.${list}) || variables.pod.${list}.all(container, ${passes})`,
    messageExpression: `variables.pod.${list}.filter(container, !${passes}).map(container, ${quote(`[${policy.id}] container "`)} + container.name + ${quote(`" (${list}[`)} + string(variables.pod.${list}.indexOf(container)) + "]): " + ${messageCel(policy, rule)} + ${quote(` — ${fixOf(policy, rule)}`)}).join("; ")`,
    message: `[${policy.id}] a container in ${list}: ${rule.message ?? 'failed rule'} — ${fixOf(policy, rule)}`,
  }));
}

function namespaceSelector(operator: 'In' | 'NotIn', names: readonly string[]): Record<string, unknown> {
  return names.length === 0 && operator === 'NotIn' ? {} : { namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator, values: [...names] }] } };
}

// The bindings of a policy: its action in the config's mode, and audit namespaces as [Warn, Audit].
function bindings(name: string, settings: PolicySettings, config: Config): Record<string, unknown>[] {
  const actions = settings.action === 'warn' ? ['Warn'] : settings.action === 'audit' ? ['Audit'] : config.mode === 'audit' ? ['Warn', 'Audit'] : ['Deny'];
  const binding = (suffix: string, validationActions: string[], matchResources: Record<string, unknown>) => ({
    apiVersion: VAP_API_VERSION,
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: `${name}${suffix}`, labels: MANAGED },
    spec: { policyName: name, validationActions, matchResources },
  });
  const auditNs = settings.action === 'deny' && config.mode === 'enforce' ? config.auditNamespaces : [];
  return [
    binding('', actions, namespaceSelector('NotIn', [...config.excludeNamespaces, ...auditNs])),
    ...(auditNs.length > 0 ? [binding('-audit', ['Warn', 'Audit'], { ...namespaceSelector('In', auditNs) })] : []),
  ];
}

// The ValidatingAdmissionPolicy of one policy with its rules.
function policyDocument(name: string, policy: Policy, settings: PolicySettings, rules: FailSafeRules & { ok: true }, params: object): Record<string, unknown> {
  const validations = [
    ...(rules.rules.validations ?? []).map((r) => podValidation(policy, r)),
    ...(rules.rules.containerValidations ?? []).flatMap((r) => containerValidations(policy, r, settings)),
  ];
  return {
    apiVersion: VAP_API_VERSION,
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name, labels: { ...MANAGED, 'portcullis.dev/policy': policy.id }, annotations: { 'portcullis.dev/title': policy.title } },
    spec: {
      failurePolicy: rules.onError === 'allow' ? 'Ignore' : 'Fail',
      matchConstraints: { resourceRules: resourceRules() },
      ...(policy.appliesToWindows ? {} : { matchConditions: [{ name: 'not-windows', expression: `!(has((${podSpecExpression('object')}).os) && has((${podSpecExpression('object')}).os.name) && (${podSpecExpression('object')}).os.name == 'windows')` }] }),
      variables: [
        { name: 'pod', expression: podSpecExpression('object') },
        { name: 'params', expression: celLiteral(params) },
        { name: 'unchanged', expression: `request.operation == 'UPDATE' && oldObject != null && (${podSpecExpression('oldObject')}) == variables.pod` },
      ],
      validations,
    },
  };
}

// A policy's rules and the parameters they read at these settings, or why the API server cannot run them.
function renderable(policy: Policy, settings: PolicySettings): { ok: true; rules: FailSafeRules & { ok: true }; params: object } | { ok: false; reason: string } {
  const rules = failSafeRules(policy);
  if (!rules.ok) return rules;
  const params = celParamsOf(policy, settings.params);
  if (!params.ok) return params;
  const excluded = settings.excludeImages.find((glob) => globToRegex(glob) === undefined);
  if (excluded !== undefined) return { ok: false, reason: `exclude.images pattern "${excluded}" uses glob syntax the fail-safe does not translate to RE2` };
  return { ok: true, rules, params: params.params };
}

// The fail-safe policies for this config: every enabled policy, rendered or listed as inexpressible.
export function renderFailSafe(config: Config): FailSafe {
  const documents: Record<string, unknown>[] = [];
  const inexpressible: Inexpressible[] = [];
  for (const policy of config.catalog) {
    const settings = config.policies[policy.id];
    if (!settings || settings.action === 'off') continue;
    const found = renderable(policy, settings);
    if (!found.ok) {
      inexpressible.push({ policy: policy.id, reason: found.reason });
      continue;
    }
    const name = `portcullis-${policy.id}`;
    documents.push(policyDocument(name, policy, settings, found.rules, found.params), ...bindings(name, settings, config));
  }
  return { documents, inexpressible };
}
