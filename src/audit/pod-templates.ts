// Finds a pod template in custom resources (Argo Rollouts, Knative, operators' CRs) so `audit` checks them too.
import { isObject } from '../workload/k8s.js';
import type { JsonObject } from '../workload/k8s.js';

/** Where custom resources commonly carry a pod spec, tried in order (a Deployment's and a CronJob's layout). */
export const DEFAULT_POD_TEMPLATE_PATHS: readonly string[] = ['spec.template.spec', 'spec.jobTemplate.spec.template.spec'];

export interface FoundTemplate {
  /** the path of the pod spec in the object, e.g. ['spec', 'template', 'spec'] */
  readonly path: readonly string[];
  /** the object as a PodTemplate the engine checks: its metadata, and the pod spec under template.spec */
  readonly podTemplate: JsonObject;
}

// A recognisable pod spec: a non-empty `containers` list of objects that each name an image.
function isPodSpec(node: unknown): node is JsonObject {
  if (!isObject(node) || !Array.isArray(node.containers) || node.containers.length === 0) return false;
  return node.containers.every((c) => isObject(c) && typeof c.image === 'string');
}

function at(object: unknown, path: readonly string[]): unknown {
  let node = object;
  for (const key of path) {
    if (!isObject(node)) return undefined;
    node = node[key];
  }
  return node;
}

/** The first path (dotted, e.g. "spec.template.spec") that holds a recognisable pod spec, as a PodTemplate. */
export function findPodTemplate(object: JsonObject, paths: readonly string[]): FoundTemplate | undefined {
  for (const dotted of paths) {
    const path = dotted.split('.').filter(Boolean);
    const spec = at(object, path);
    if (!isPodSpec(spec)) continue;
    const template = at(object, path.slice(0, -1));
    const templateMeta = isObject(template) && isObject(template.metadata) ? { metadata: template.metadata } : {};
    const metadata = isObject(object.metadata) ? { metadata: object.metadata } : {};
    return { path, podTemplate: { apiVersion: 'v1', kind: 'PodTemplate', ...metadata, template: { ...templateMeta, spec } } };
  }
  return undefined;
}

/** Built-in API groups ("" core, "apps", "batch", "*.k8s.io"): their kinds are not custom resources. */
export function isBuiltInGroup(group: string): boolean {
  return !group.includes('.') || group.endsWith('.k8s.io');
}
