// require-resource-limits
// Rule: "Every container declares what it needs and what it may use: resource requests and limits for the
// configured resources (default: CPU and memory, both)." spec.containers[*] and spec.initContainers[*]:
// resources.requests.<name> and resources.limits.<name> are set. Ephemeral containers cannot set resources.
import type { CheckInput, ContainerSite, Finding, Policy } from '../../src/engine/types.js';

export interface ResourceLimitsParams {
  /** resources that need a request */
  readonly requests: readonly string[];
  /** resources that need a limit */
  readonly limits: readonly string[];
}

const EXAMPLE: Readonly<Record<string, string>> = { cpu: '500m', memory: '256Mi', 'ephemeral-storage': '1Gi' };

// Checks a container's resources for the required requests and limits.
function checkContainer(site: ContainerSite, { params }: CheckInput<ResourceLimitsParams>): Finding | undefined {
  if (site.list === 'ephemeralContainers') return undefined;
  const { requests, limits } = site.container.resources;
  if (params.requests.every((r) => requests[r] !== undefined) && params.limits.every((r) => limits[r] !== undefined)) return undefined;
  const missing = [
    ...params.requests.filter((r) => requests[r] === undefined).map((r) => `requests.${r}`),
    ...params.limits.filter((r) => limits[r] === undefined).map((r) => `limits.${r}`),
  ];
  if (missing.length === 0) return undefined;
  const example = missing.map((m) => `resources.${m}${EXAMPLE[m.split('.')[1] ?? ''] ? ` (e.g. ${EXAMPLE[m.split('.')[1] ?? '']})` : ''}`).join(', ');
  return { container: site, problem: `has no ${missing.map((m) => `resources.${m}`).join(', ')}`, fix: `set ${example}` };
}

const RESOURCE_LIST = { type: 'array', items: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9./]*[a-z0-9])?$' }, uniqueItems: true };

// The rule in CEL, for the fail-safe ValidatingAdmissionPolicy. Ephemeral containers are told apart by name
// (names are unique across a pod's container lists).
const EPHEMERAL = 'has(pod.ephemeralContainers) && pod.ephemeralContainers.exists(e, e.name == container.name)';
const lacks = (kind: string): string => `params.${kind}.filter(r, !(has(container.resources) && has(container.resources.${kind}) && r in container.resources.${kind}))`;
const MISSING = `${lacks('requests')}.map(r, 'resources.requests.' + r) + ${lacks('limits')}.map(r, 'resources.limits.' + r)`;
const CEL = {
  containerValidations: [
    {
      expression: `(${EPHEMERAL}) || size(${MISSING}) == 0`,
      messageExpression: `'has no ' + (${MISSING}).join(', ')`,
      fix: 'set the missing requests and limits (e.g. cpu 500m, memory 256Mi, ephemeral-storage 1Gi)',
    },
  ],
};

export const requireResourceLimits: Policy<ResourceLimitsParams> = {
  id: 'require-resource-limits',
  title: 'Resource requests and limits',
  description: 'Every container sets resource requests and limits (default: CPU and memory).',
  severity: 'medium',
  category: 'Best Practices',
  defaultAction: 'off',
  facts: [],
  appliesToWindows: true,
  paramsSchema: { requests: RESOURCE_LIST, limits: RESOURCE_LIST },
  defaults: { requests: ['cpu', 'memory'], limits: ['cpu', 'memory'] },
  checkContainer,
  cel: CEL,
};
