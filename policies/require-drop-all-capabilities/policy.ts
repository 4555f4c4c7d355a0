// require-drop-all-capabilities
// Rule (Pod Security Standards, restricted): "Containers must drop ALL capabilities, and are only
// permitted to add back the NET_BIND_SERVICE capability." spec.containers[*], spec.initContainers[*],
// spec.ephemeralContainers[*]: securityContext.capabilities.drop must include "ALL";
// securityContext.capabilities.add may only hold allowed names.
import type { CheckInput, ContainerSite, Finding, Policy } from '../../src/engine/types.js';

export interface DropAllParams {
  readonly allowedCapabilities: readonly string[];
}

function dropFinding(site: ContainerSite, drop: readonly string[]): Finding | undefined {
  if (drop.includes('ALL')) return undefined;
  const lower = drop.find((name) => name.toUpperCase() === 'ALL');
  const problem = lower
    ? `capabilities.drop has "${lower}", expected exactly "ALL" (capability names are case-sensitive)`
    : `does not drop all capabilities (capabilities.drop: ${drop.length ? JSON.stringify(drop) : 'unset'})`;
  return { container: site, problem, fix: 'set securityContext.capabilities.drop: ["ALL"]' };
}

function addFindings(site: ContainerSite, add: readonly string[], allowed: readonly string[]): Finding[] {
  const shown = allowed.length ? allowed.join(', ') : 'none';
  return add
    .filter((name) => !allowed.includes(name))
    .map((name) => ({
      container: site,
      problem: `adds capability "${name}" (allowed: ${shown})`,
      fix: `remove "${name}" from securityContext.capabilities.add`,
    }));
}

// Checks that a container drops ALL and adds back only allowed capabilities.
function checkContainer(site: ContainerSite, { params }: CheckInput<DropAllParams>): Finding[] | undefined {
  const caps = site.container.securityContext?.capabilities;
  if (caps && caps.drop.includes('ALL') && caps.add.every((name) => params.allowedCapabilities.includes(name))) return undefined;
  const drop = dropFinding(site, caps?.drop ?? []);
  return [...(drop ? [drop] : []), ...addFindings(site, caps?.add ?? [], params.allowedCapabilities)];
}

// The rule in CEL, for the fail-safe ValidatingAdmissionPolicy: the drop list, then the add list.
const CAPS = 'container.securityContext.capabilities';
const capList = (field: string): string => `(has(container.securityContext) && has(${CAPS}) && has(${CAPS}.${field}) ? ${CAPS}.${field} : [])`;
const DROP = capList('drop');
const ADD = capList('add');
const CEL = {
  containerValidations: [
    {
      expression: `'ALL' in ${DROP}`,
      messageExpression: `${DROP}.exists(n, n.upperAscii() == 'ALL') ? 'capabilities.drop has "' + ${DROP}.filter(n, n.upperAscii() == 'ALL')[0] + '", expected exactly "ALL" (capability names are case-sensitive)' : 'does not drop all capabilities (capabilities.drop: ' + (size(${DROP}) > 0 ? '["' + ${DROP}.join('","') + '"]' : 'unset') + ')'`,
      fix: 'set securityContext.capabilities.drop: ["ALL"]',
    },
    {
      expression: `${ADD}.all(n, n in params.allowedCapabilities)`,
      messageExpression: `${ADD}.filter(n, !(n in params.allowedCapabilities)).map(n, 'adds capability "' + n + '"').join(', ') + ' (allowed: ' + (size(params.allowedCapabilities) > 0 ? params.allowedCapabilities.join(', ') : 'none') + ')'`,
      fix: 'remove it from securityContext.capabilities.add',
    },
  ],
};

export const requireDropAllCapabilities: Policy<DropAllParams> = {
  id: 'require-drop-all-capabilities',
  title: 'Drop all Linux capabilities',
  description: 'Every container drops ALL capabilities and adds back only allowed ones (default NET_BIND_SERVICE).',
  severity: 'medium',
  category: 'Pod Security',
  defaultAction: 'deny',
  facts: [],
  appliesToWindows: false,
  podSecurity: { restricted: { allowedCapabilities: ['NET_BIND_SERVICE'] } },
  paramsSchema: {
    allowedCapabilities: { type: 'array', items: { type: 'string', pattern: '^[A-Z_0-9]+$' }, uniqueItems: true },
  },
  defaults: { allowedCapabilities: ['NET_BIND_SERVICE'] },
  checkContainer,
  cel: CEL,
};
