// Cases for the rules that read the metadata next to the pod spec (annotations, owner references), with a builder
// that puts the metadata where each pod-carrying kind keeps it.
import { POD_SPEC_PATHS } from '../../src/workload/podspecs.js';
import { compliantSpec, KINDS, objectOf } from './pods.js';
import type { Json } from './pods.js';

/** A compliant object of this kind with this metadata next to its pod spec (the Pod's, or the template's). */
export function withPodMetadata(kind: (typeof KINDS)[number], metadata: Json, name?: string, namespace?: string): Json {
  const object = objectOf(kind, compliantSpec(), name, namespace);
  const path = Object.entries(POD_SPEC_PATHS).find(([key]) => key.endsWith(`/${kind.kind}`))![1];
  let node = object;
  for (const key of path.slice(0, -1)) node = node[key] as Json;
  node.metadata = { ...(node.metadata as Json | undefined), ...metadata };
  return object;
}

/** Metadata cases, each with whether the policy (default parameters) refuses it on some kind. */
export const POD_METADATA_CASES: ReadonlyArray<{ policy: string; name: string; metadata: Json; denied: boolean }> = [
  { policy: 'restrict-apparmor', name: 'annotation unconfined', metadata: { annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' } }, denied: true },
  { policy: 'restrict-apparmor', name: 'annotation runtime/default', metadata: { annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'runtime/default', team: 'a' } }, denied: false },
  { policy: 'restrict-apparmor', name: 'annotation localhost profile', metadata: { annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'localhost/k8s-app' } }, denied: false },
  { policy: 'require-probes', name: 'owned by a Job', metadata: { ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'j', uid: 'u' }] }, denied: false },
  { policy: 'require-probes', name: 'owned by a ReplicaSet', metadata: { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'r', uid: 'u' }] }, denied: true },
];
