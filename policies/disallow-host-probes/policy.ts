// disallow-host-probes
// Rule (Pod Security Standards baseline; PSA check hostProbesAndHostLifecycle, 1.34+): "Host field is restricted in
// the probes and lifecycle handlers." Restricted fields: spec.containers[*], spec.initContainers[*] (and ephemeral
// containers) .livenessProbe / .readinessProbe / .startupProbe .httpGet.host and .tcpSocket.host, and
// .lifecycle.postStart / .lifecycle.preStop .httpGet.host and .tcpSocket.host. Allowed values: "", undefined/null.
import type { ContainerSite, Finding, Policy } from '../../src/engine/types.js';
import type { Handler } from '../../src/workload/k8s.js';
import { BASELINE_CONTROL, NO_PARAMS } from '../common.js';

export type HostProbesParams = Record<string, never>;

// The host fields a handler sets, as "field.httpGet.host: value".
function hostsOf(field: string, handler: Handler | undefined): string[] {
  if (!handler) return [];
  const out: string[] = [];
  if (handler.httpGetHost) out.push(`${field}.httpGet.host ${JSON.stringify(handler.httpGetHost)}`);
  if (handler.tcpSocketHost) out.push(`${field}.tcpSocket.host ${JSON.stringify(handler.tcpSocketHost)}`);
  return out;
}

// Checks a container's probes and lifecycle handlers for a host other than the pod.
function checkContainer(site: ContainerSite): Finding[] | undefined {
  const c = site.container;
  const anyHost = (h: Handler | undefined): boolean => h !== undefined && (!!h.httpGetHost || !!h.tcpSocketHost);
  if (!anyHost(c.livenessProbe) && !anyHost(c.readinessProbe) && !anyHost(c.startupProbe) && !anyHost(c.lifecycle?.postStart) && !anyHost(c.lifecycle?.preStop)) return undefined;
  const hosts = [
    ...hostsOf('livenessProbe', c.livenessProbe),
    ...hostsOf('readinessProbe', c.readinessProbe),
    ...hostsOf('startupProbe', c.startupProbe),
    ...hostsOf('lifecycle.postStart', c.lifecycle?.postStart),
    ...hostsOf('lifecycle.preStop', c.lifecycle?.preStop),
  ];
  return hosts.map((host) => ({
    container: site,
    problem: `${host} sends the kubelet's request to another host`,
    fix: `remove ${host.split(' ')[0]} (the kubelet then probes the pod's own IP)`,
  }));
}

// The rule in CEL, for the fail-safe ValidatingAdmissionPolicy: the host fields set, as "field.httpGet.host "value"".
const HANDLERS = ['livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle.postStart', 'lifecycle.preStop'];
const present = (path: string): string => path.split('.').map((_, i, parts) => `has(container.${parts.slice(0, i + 1).join('.')})`).join(' && ');
const hostAt = (field: string, action: string): string => {
  const at = `${field}.${action}.host`;
  return `(${present(at)} && container.${at} != '' ? '${at} "' + container.${at} + '"' : '')`;
};
const HOSTS = `[${HANDLERS.flatMap((f) => [hostAt(f, 'httpGet'), hostAt(f, 'tcpSocket')]).join(', ')}].filter(h, h != '')`;
const CEL = {
  containerValidations: [
    {
      expression: `size(${HOSTS}) == 0`,
      messageExpression: `${HOSTS}.map(h, h + " sends the kubelet's request to another host").join('; ')`,
      fix: "remove the host field (the kubelet then probes the pod's own IP)",
    },
  ],
};

export const disallowHostProbes: Policy<HostProbesParams> = {
  id: 'disallow-host-probes',
  title: 'No probe or lifecycle hosts',
  description: 'No probe or lifecycle handler sets httpGet.host or tcpSocket.host.',
  severity: 'medium',
  ...BASELINE_CONTROL,
  ...NO_PARAMS,
  checkContainer,
  cel: CEL,
};
