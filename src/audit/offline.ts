// Evaluates manifests with the engine, as if each were created.
import type { Config } from '../config/types.js';
import type { Engine } from '../engine/evaluate.js';
import { skipped } from '../engine/decision.js';
import type { Decision } from '../engine/decision.js';
import { carriesPods, groupOf, podSpecPath } from '../workload/podspecs.js';
import { isObject } from '../workload/k8s.js';
import type { Manifest } from './manifests.js';
import { DEFAULT_POD_TEMPLATE_PATHS, findPodTemplate, isBuiltInGroup } from './pod-templates.js';
import { checkedPolicies } from './subject.js';
import type { AuditSubject } from './subject.js';

export { wouldBeDenied } from './subject.js';

export interface ResourceResult extends AuditSubject {
  readonly file: string;
  readonly doc: number;
  readonly line: number;
  readonly decision: Decision;
  /** the document is not a Kubernetes object (no apiVersion or kind): an error unless --allow-empty */
  readonly notAnObject?: true;
}

export interface OfflineOptions {
  /** where custom resources carry a pod spec (dotted paths, tried in order); default DEFAULT_POD_TEMPLATE_PATHS */
  readonly podTemplatePaths?: readonly string[];
}

const OFFLINE_DEADLINE_MS = 30_000;

interface Target {
  readonly group: string;
  readonly kind: string;
  readonly object: unknown;
  /** where the pod spec sits in the manifest's object */
  readonly podPath: readonly string[];
}

// What the engine evaluates: the object itself, or for a custom resource its pod template as a PodTemplate.
function targetOf(object: Manifest['object'], group: string, kind: string, paths: readonly string[]): Target | string {
  if (carriesPods(group, kind)) return { group, kind, object, podPath: podSpecPath(group, kind) ?? [] };
  const found = findPodTemplate(object, paths);
  if (found) return { group: '', kind: 'PodTemplate', object: found.podTemplate, podPath: found.path };
  if (isBuiltInGroup(group)) return `kind ${kind} carries no pod spec`;
  return `custom resource ${kind} (${group}): no pod spec at ${paths.join(', ')} (add its path with --pod-template-path)`;
}

// Evaluates one manifest as a CREATE in its namespace (or "default"); config names the policies checked.
export async function evaluateManifest(engine: Engine, m: Manifest, config?: Config, options: OfflineOptions = {}): Promise<ResourceResult> {
  const apiVersion = typeof m.object.apiVersion === 'string' ? m.object.apiVersion : '';
  const kind = typeof m.object.kind === 'string' ? m.object.kind : '';
  const group = groupOf(apiVersion);
  const meta = isObject(m.object.metadata) ? m.object.metadata : {};
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : undefined;
  const name = typeof meta.name === 'string' ? meta.name : typeof meta.generateName === 'string' ? `${meta.generateName}*` : '';
  const notAnObject = !apiVersion || !kind;
  const target = notAnObject ? 'not a Kubernetes object: expected apiVersion and kind' : targetOf(m.object, group, kind, options.podTemplatePaths ?? DEFAULT_POD_TEMPLATE_PATHS);
  const decision =
    typeof target === 'string'
      ? skipped(target)
      : await engine.evaluate(
          { group: target.group, kind: target.kind, operation: 'CREATE', object: target.object, ...(namespace ? { namespace } : {}) },
          { deadline: Date.now() + OFFLINE_DEADLINE_MS },
        );
  const locate = m.locate;
  const podPath = typeof target === 'string' ? [] : target.podPath;
  return {
    file: m.file,
    doc: m.doc,
    line: m.line,
    apiVersion,
    kind,
    ...(namespace ? { namespace } : {}),
    name,
    decision,
    ...(m.source ? { source: m.source } : {}),
    policies: config && typeof target !== 'string' && !decision.skipped ? checkedPolicies(config, target.object, target.group, target.kind) : [],
    ...(locate ? { containerLine: (list, index) => locate([...podPath, list, index]) } : {}),
    ...(notAnObject ? { notAnObject: true as const } : {}),
  } satisfies ResourceResult;
}
