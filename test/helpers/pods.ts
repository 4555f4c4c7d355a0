// Fixture builders: a minimal pod that passes every policy, tweaks of it, and every pod-carrying kind around it.
import type { Engine } from '../../src/engine/evaluate.js';
import type { Decision } from '../../src/engine/decision.js';
import { groupOf } from '../../src/workload/podspecs.js';

export type Json = Record<string, any>;

/** A pod spec that passes every built-in policy (without image facts). */
export function compliantSpec(): Json {
  return {
    securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [
      {
        name: 'app',
        image: 'registry.example.com/team/app:1.4.2',
        securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      },
    ],
  };
}

/** compliantSpec() changed by a tweak function. */
export function specWith(tweak: (spec: Json) => void): Json {
  const spec = compliantSpec();
  tweak(spec);
  return spec;
}

/** Each pod-carrying kind, wrapping a pod spec. */
export const KINDS: ReadonlyArray<{ apiVersion: string; kind: string; wrap: (spec: Json) => Json }> = [
  { apiVersion: 'v1', kind: 'Pod', wrap: (spec) => ({ spec }) },
  { apiVersion: 'v1', kind: 'PodTemplate', wrap: (spec) => ({ template: { spec } }) },
  { apiVersion: 'v1', kind: 'ReplicationController', wrap: (spec) => ({ spec: { replicas: 1, template: { spec } } }) },
  { apiVersion: 'apps/v1', kind: 'Deployment', wrap: (spec) => ({ spec: { replicas: 2, template: { spec } } }) },
  { apiVersion: 'apps/v1', kind: 'ReplicaSet', wrap: (spec) => ({ spec: { template: { spec } } }) },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', wrap: (spec) => ({ spec: { serviceName: 's', template: { spec } } }) },
  { apiVersion: 'apps/v1', kind: 'DaemonSet', wrap: (spec) => ({ spec: { template: { spec } } }) },
  { apiVersion: 'batch/v1', kind: 'Job', wrap: (spec) => ({ spec: { template: { spec: { restartPolicy: 'Never', ...spec } } } }) },
  { apiVersion: 'batch/v1', kind: 'CronJob', wrap: (spec) => ({ spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec } } } } }) },
];

/** A full object of this kind around the spec. */
export function objectOf(kind: (typeof KINDS)[number], spec: Json, name = 'fixture', namespace = 'default'): Json {
  return { apiVersion: kind.apiVersion, kind: kind.kind, metadata: { name, namespace }, ...kind.wrap(spec) };
}

/** An admission.k8s.io/v1 AdmissionReview for this object. */
export function reviewOf(object: Json, opts: { operation?: string; oldObject?: Json; uid?: string; subResource?: string; dryRun?: boolean } = {}): Json {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
  const plural = `${String(object.kind).toLowerCase()}s`;
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: opts.uid ?? '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group, version, kind: object.kind },
      resource: { group, version, resource: plural },
      ...(opts.subResource ? { subResource: opts.subResource } : {}),
      name: object.metadata?.name,
      namespace: object.metadata?.namespace,
      operation: opts.operation ?? 'CREATE',
      userInfo: { username: 'developer@example.com', groups: ['system:authenticated'] },
      object,
      oldObject: opts.oldObject ?? null,
      dryRun: opts.dryRun ?? false,
    },
  };
}

/** Evaluates an object as a CREATE with the engine. */
export function evaluateObject(engine: Engine, object: Json, extra: { operation?: 'CREATE' | 'UPDATE'; oldObject?: Json } = {}): Promise<Decision> {
  return Promise.resolve(engine.evaluate(
    {
      group: groupOf(object.apiVersion),
      kind: object.kind,
      operation: extra.operation ?? 'CREATE',
      object,
      ...(object.metadata?.namespace ? { namespace: object.metadata.namespace } : {}),
      ...(extra.oldObject ? { oldObject: extra.oldObject } : {}),
    },
    { deadline: Date.now() + 5000 },
  ));
}
