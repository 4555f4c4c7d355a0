// disallow-host-ports
// Rule (Pod Security Standards baseline; PSA check hostPorts): "HostPort ports must be forbidden."
// Restricted fields: spec.containers[*], spec.initContainers[*] (and ephemeral containers) .ports[*].hostPort.
// Allowed values: undefined/0 (and, as a portcullis parameter, the ports in allowedHostPorts; empty by default).
import type { CheckInput, ContainerSite, Finding, Policy } from '../../src/engine/types.js';
import { BASELINE_CONTROL } from '../common.js';

export interface HostPortsParams {
  readonly allowedHostPorts: readonly number[];
}

// Checks a container's ports for a hostPort.
function checkContainer(site: ContainerSite, { params }: CheckInput<HostPortsParams>): Finding[] | undefined {
  if (site.container.ports.every((p) => !p.hostPort)) return undefined;
  return site.container.ports
    .filter((p) => p.hostPort !== undefined && p.hostPort !== 0 && !params.allowedHostPorts.includes(p.hostPort))
    .map((p) => ({
      container: site,
      problem: `binds host port ${String(p.hostPort)}${p.containerPort !== undefined ? ` (containerPort ${p.containerPort})` : ''}`,
      fix: 'remove ports[].hostPort and expose the port through a Service',
    }));
}

// The rule in CEL, for the fail-safe ValidatingAdmissionPolicy.
const CEL = {
  containerValidations: [
    {
      expression: '!has(container.ports) || container.ports.all(p, !has(p.hostPort) || p.hostPort == 0 || p.hostPort in params.allowedHostPorts)',
      messageExpression: "container.ports.filter(p, has(p.hostPort) && p.hostPort != 0 && !(p.hostPort in params.allowedHostPorts)).map(p, 'binds host port ' + string(p.hostPort) + (has(p.containerPort) ? ' (containerPort ' + string(p.containerPort) + ')' : '')).join('; ')",
      fix: 'remove ports[].hostPort and expose the port through a Service',
    },
  ],
};

export const disallowHostPorts: Policy<HostPortsParams> = {
  id: 'disallow-host-ports',
  title: 'No host ports',
  description: 'No container binds a hostPort (except those listed in allowedHostPorts).',
  severity: 'medium',
  ...BASELINE_CONTROL,
  paramsSchema: {
    allowedHostPorts: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 65535 }, uniqueItems: true },
  },
  defaults: { allowedHostPorts: [] },
  checkContainer,
  cel: CEL,
};
