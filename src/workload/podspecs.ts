// Finds every pod spec in a Kubernetes object: Pods, pod controllers and PodTemplates.
import type { ContainerList, ContainerSite, PodSite } from '../engine/types.js';
import { isObject, optionalString, stringMap, withFieldPaths, WorkloadError } from './k8s.js';
import { readPodSpec } from './spec.js';
import type { JsonObject, PodSpec } from './k8s.js';

/** Where the pod spec sits in each pod-carrying kind, keyed by "group/Kind" ("" is the core group). */
export const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  '/Pod': ['spec'],
  '/PodTemplate': ['template', 'spec'],
  '/ReplicationController': ['spec', 'template', 'spec'],
  'apps/Deployment': ['spec', 'template', 'spec'],
  'apps/ReplicaSet': ['spec', 'template', 'spec'],
  'apps/StatefulSet': ['spec', 'template', 'spec'],
  'apps/DaemonSet': ['spec', 'template', 'spec'],
  'batch/Job': ['spec', 'template', 'spec'],
  'batch/CronJob': ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

export const CONTAINER_LISTS: readonly ContainerList[] = ['containers', 'initContainers', 'ephemeralContainers'];

/** The group of an apiVersion ("apps/v1" -> "apps", "v1" -> ""). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

/** Whether objects of this group and kind carry a pod spec. */
export function carriesPods(group: string, kind: string): boolean {
  return POD_SPEC_PATHS[`${group}/${kind}`] !== undefined;
}

export function podSpecPath(group: string, kind: string): readonly string[] | undefined {
  return POD_SPEC_PATHS[`${group}/${kind}`];
}

/** The raw pod spec JSON of an object, or undefined when the kind carries none or the path is missing. */
export function rawPodSpec(obj: unknown, group: string, kind: string): unknown {
  const path = podSpecPath(group, kind);
  if (!path) return undefined;
  let node: unknown = obj;
  for (const key of path) {
    if (!isObject(node)) return undefined;
    node = node[key];
  }
  return node;
}

function sitesOf(spec: PodSpec): ContainerSite[] {
  return CONTAINER_LISTS.flatMap((list) => spec[list].map((container, index) => ({ list, index, name: container.name, container })));
}

// The metadata next to the pod spec (the Pod's, or the pod template's): annotations and owner kinds.
function podMetadata(obj: unknown, path: readonly string[]): { annotations: Record<string, string>; ownerKinds: string[] } {
  let node: unknown = obj;
  for (const key of [...path.slice(0, -1), 'metadata']) node = isObject(node) ? node[key] : undefined;
  if (!isObject(node)) return { annotations: {}, ownerKinds: [] };
  const at = [...path.slice(0, -1), 'metadata'].join('.');
  const owners = Array.isArray(node.ownerReferences) ? node.ownerReferences : [];
  const ownerKinds = owners.flatMap((o, i) => (isObject(o) ? [optionalString(o, 'kind', `${at}.ownerReferences[${i}]`) ?? ''] : []));
  return { annotations: stringMap(node, 'annotations', at), ownerKinds };
}

// Builds the PodSite for a pod-carrying object; undefined for other kinds. Throws WorkloadError on mistyped fields.
export function podSiteOf(obj: unknown, group: string, kind: string): PodSite | undefined {
  const path = podSpecPath(group, kind);
  if (!path) return undefined;
  const raw = rawPodSpec(obj, group, kind);
  const dotted = path.join('.');
  if (raw === undefined || raw === null) throw new WorkloadError(dotted, 'a pod spec', raw);
  const spec = withFieldPaths(() => readPodSpec(raw, dotted));
  return { path: dotted, kind, ...podMetadata(obj, path), spec, containers: sitesOf(spec), windows: spec.os === 'windows' };
}

export type { JsonObject };
