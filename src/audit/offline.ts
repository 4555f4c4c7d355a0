// Evaluates manifests with the engine, as if each were created.
import type { Config } from '../config/types.js';
import type { Engine } from '../engine/evaluate.js';
import type { Decision } from '../engine/decision.js';
import { groupOf, podSpecPath } from '../workload/podspecs.js';
import { isObject } from '../workload/k8s.js';
import type { Manifest } from './manifests.js';
import { checkedPolicies } from './subject.js';
import type { AuditSubject } from './subject.js';

export { wouldBeDenied } from './subject.js';

export interface ResourceResult extends AuditSubject {
  readonly file: string;
  readonly doc: number;
  readonly line: number;
  readonly decision: Decision;
}

const OFFLINE_DEADLINE_MS = 30_000;

// Evaluates one manifest as a CREATE in its namespace (or "default"); config names the policies checked.
export async function evaluateManifest(engine: Engine, m: Manifest, config?: Config): Promise<ResourceResult> {
  const apiVersion = typeof m.object.apiVersion === 'string' ? m.object.apiVersion : '';
  const kind = typeof m.object.kind === 'string' ? m.object.kind : '';
  const group = groupOf(apiVersion);
  const meta = isObject(m.object.metadata) ? m.object.metadata : {};
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : undefined;
  const name = typeof meta.name === 'string' ? meta.name : typeof meta.generateName === 'string' ? `${meta.generateName}*` : '';
  const decision = await engine.evaluate(
    { group, kind, operation: 'CREATE', object: m.object, ...(namespace ? { namespace } : {}) },
    { deadline: Date.now() + OFFLINE_DEADLINE_MS },
  );
  const podPath = podSpecPath(group, kind) ?? [];
  const locate = m.locate;
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
    policies: config && !decision.skipped ? checkedPolicies(config, m.object, group, kind) : [],
    ...(locate ? { containerLine: (list, index) => locate([...podPath, list, index]) } : {}),
  } satisfies ResourceResult;
}
