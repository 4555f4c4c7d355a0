// Evaluates manifests with the engine, as if each were created.
import type { Engine } from '../engine/evaluate.js';
import type { Decision } from '../engine/decision.js';
import { groupOf } from '../workload/podspecs.js';
import { isObject } from '../workload/k8s.js';
import type { Manifest } from './manifests.js';

export interface ResourceResult {
  readonly file: string;
  readonly doc: number;
  readonly line: number;
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly decision: Decision;
}

const OFFLINE_DEADLINE_MS = 30_000;

// Evaluates one manifest as a CREATE in its namespace (or "default").
export async function evaluateManifest(engine: Engine, m: Manifest): Promise<ResourceResult> {
  const apiVersion = typeof m.object.apiVersion === 'string' ? m.object.apiVersion : '';
  const kind = typeof m.object.kind === 'string' ? m.object.kind : '';
  const meta = isObject(m.object.metadata) ? m.object.metadata : {};
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : undefined;
  const name = typeof meta.name === 'string' ? meta.name : typeof meta.generateName === 'string' ? `${meta.generateName}*` : '';
  const decision = await engine.evaluate(
    { group: groupOf(apiVersion), kind, operation: 'CREATE', object: m.object, ...(namespace ? { namespace } : {}) },
    { deadline: Date.now() + OFFLINE_DEADLINE_MS },
  );
  return { file: m.file, doc: m.doc, line: m.line, apiVersion, kind, ...(namespace ? { namespace } : {}), name, decision };
}

/** A resource "fails" when enforcement would refuse it: a deny, or a deny that audit mode turned into a warning. */
export function wouldBeDenied(result: ResourceResult): boolean {
  return result.decision.violations.some((v) => v.effect === 'deny' || (v.wouldDeny && !v.preexisting)) || !result.decision.allowed;
}
