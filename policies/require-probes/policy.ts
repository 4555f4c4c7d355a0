// require-probes
// Rule: "Long-running containers tell the kubelet whether they are alive and ready: a liveness and a readiness
// probe." spec.containers[*].livenessProbe and .readinessProbe are set, with an action. Not checked: init
// containers (they run to completion; restartable sidecars are checked), ephemeral containers, and Pods that run to
// completion: Jobs and CronJobs, Pods owned by a Job, and Pods with restartPolicy Never or OnFailure.
import type { CheckInput, ContainerSite, Finding, PodSite, Policy } from '../../src/engine/types.js';
import { celPodMetadata } from '../common.js';

export interface ProbesParams {
  /** the probes each long-running container needs */
  readonly probes: ReadonlyArray<'liveness' | 'readiness' | 'startup'>;
}

const FIELD = { liveness: 'livenessProbe', readiness: 'readinessProbe', startup: 'startupProbe' } as const;

// Whether the pod runs until stopped (not a Job's, not restartPolicy Never/OnFailure).
function longRunning(pod: PodSite): boolean {
  if (pod.kind === 'Job' || pod.kind === 'CronJob' || pod.ownerKinds.includes('Job')) return false;
  const policy = pod.spec.restartPolicy;
  return policy === undefined || policy === 'Always';
}

// Checks a long-running container for the required probes.
function checkContainer(site: ContainerSite, { pod, params }: CheckInput<ProbesParams>): Finding | undefined {
  if (site.list === 'ephemeralContainers') return undefined;
  if (site.list === 'initContainers' && site.container.restartPolicy !== 'Always') return undefined;
  if (!longRunning(pod)) return undefined;
  if (params.probes.every((p) => (site.container[FIELD[p]]?.actions.length ?? 0) > 0)) return undefined;
  const missing = params.probes.filter((p) => (site.container[FIELD[p]]?.actions.length ?? 0) === 0).map((p) => FIELD[p]);
  if (missing.length === 0) return undefined;
  return {
    container: site,
    problem: `has no ${missing.join(' or ')}`,
    fix: `add ${missing.join(' and ')} (e.g. httpGet on a health endpoint, or tcpSocket on its port)`,
  };
}

// The rule in CEL, for the fail-safe ValidatingAdmissionPolicy. Ephemeral and init containers are told apart by
// name (names are unique across a pod's container lists); Job-owned Pods by the ownerReferences of the metadata.
const inList = (list: string): string => `has(pod.${list}) && pod.${list}.exists(x, x.name == container.name)`;
const EXEMPT_CONTAINER = `(${inList('ephemeralContainers')}) || ((${inList('initContainers')}) && !(has(container.restartPolicy) && container.restartPolicy == 'Always'))`;
const OWNERS = `(${celPodMetadata('ownerReferences', '[]')})`;
const RUNS_TO_COMPLETION = `object.kind == 'Job' || object.kind == 'CronJob' || ${OWNERS}.exists(o, has(o.kind) && o.kind == 'Job') || (has(pod.restartPolicy) && pod.restartPolicy != 'Always')`;
const ACTIONS = ['exec', 'httpGet', 'tcpSocket', 'grpc', 'sleep'];
const probeSet = (field: string): string => `(has(container.${field}) && (${ACTIONS.map((a) => `has(container.${field}.${a})`).join(' || ')}))`;
const MISSING = `params.probes.filter(p, !(p == 'liveness' ? ${probeSet('livenessProbe')} : p == 'readiness' ? ${probeSet('readinessProbe')} : ${probeSet('startupProbe')}))`;
const CEL = {
  containerValidations: [
    {
      expression: `${EXEMPT_CONTAINER} || ${RUNS_TO_COMPLETION} || size(${MISSING}) == 0`,
      messageExpression: `'has no ' + ${MISSING}.map(p, p + 'Probe').join(' or ')`,
      fix: 'add the missing probes (e.g. httpGet on a health endpoint, or tcpSocket on its port)',
    },
  ],
};

export const requireProbes: Policy<ProbesParams> = {
  id: 'require-probes',
  title: 'Liveness and readiness probes',
  description: 'Every long-running container has a liveness and a readiness probe (Jobs and init containers are exempt).',
  severity: 'low',
  category: 'Best Practices',
  defaultAction: 'off',
  facts: [],
  appliesToWindows: true,
  paramsSchema: {
    probes: { type: 'array', items: { enum: ['liveness', 'readiness', 'startup'] }, uniqueItems: true },
  },
  defaults: { probes: ['liveness', 'readiness'] },
  checkContainer,
  cel: CEL,
};
