// The one shape every audit output reads: a resource, its decision, and where it came from (a file or the cluster).
import type { Config } from '../config/types.js';
import type { ContainerList } from '../engine/types.js';
import type { Decision, Violation } from '../engine/decision.js';
import { isObject } from '../workload/k8s.js';
import { rawPodSpec } from '../workload/podspecs.js';

export interface AuditSubject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly decision: Decision;
  /** ids of the policies that were evaluated (active in the config and applicable to the pod spec) */
  readonly policies: readonly string[];
  /** manifest file, 0-based YAML document index and 1-based line of the object (offline audit) */
  readonly file?: string;
  readonly doc?: number;
  readonly line?: number;
  /** the template a rendered manifest came from (helm template's "# Source:" comment) */
  readonly source?: string;
  /** the object's uid and the number of pods it owns (cluster scan) */
  readonly uid?: string;
  readonly pods?: number;
  /** 1-based line of a container in the manifest file, when known */
  containerLine?(list: ContainerList, index: number): number | undefined;
}

export type Verdict = 'pass' | 'warn' | 'deny' | 'skipped';

/** Enforce mode refuses the request for this violation: its effect is deny, or a deny that audit mode made a warning. */
export function deniesWhenEnforced(v: Violation): boolean {
  return v.effect === 'deny' || (v.wouldDeny && !v.preexisting);
}

/** A resource "fails" when enforcement would refuse it: a deny, or a deny that audit mode turned into a warning. */
export function wouldBeDenied(subject: Pick<AuditSubject, 'decision'>): boolean {
  return subject.decision.violations.some(deniesWhenEnforced) || !subject.decision.allowed;
}

export function verdictOf(subject: Pick<AuditSubject, 'decision'>): Verdict {
  if (subject.decision.skipped) return 'skipped';
  if (wouldBeDenied(subject)) return 'deny';
  return subject.decision.violations.length > 0 ? 'warn' : 'pass';
}

/** "Kind/namespace/name" (or "Kind/name" when cluster-scoped). */
export function resourceId(subject: Pick<AuditSubject, 'kind' | 'namespace' | 'name'>): string {
  return `${subject.kind}/${subject.namespace ? `${subject.namespace}/` : ''}${subject.name || '(unnamed)'}`;
}

// The policies the engine evaluates for this object under this config (windows pods skip some).
export function checkedPolicies(config: Config, object: unknown, group: string, kind: string): string[] {
  const spec = rawPodSpec(object, group, kind);
  const windows = isObject(spec) && isObject(spec.os) && spec.os.name === 'windows';
  return config.catalog.filter((p) => {
    const settings = config.policies[p.id];
    return settings !== undefined && settings.action !== 'off' && (!windows || p.appliesToWindows);
  }).map((p) => p.id);
}

// One violation in the stable JSON shape (audit/v1 and scan/v1); `line` is added by audit for files.
export function violationJson(v: Violation, line?: number | null) {
  return {
    policy: v.policy,
    effect: v.effect,
    deniesWhenEnforced: deniesWhenEnforced(v),
    container: v.container ?? null,
    ...(line !== undefined ? { line } : {}),
    ...(v.code ? { code: v.code } : {}),
    problem: v.problem,
    fix: v.fix,
    message: v.message,
  };
}
