// Decisions: violations with their effective action, and the texts users see.
import type { ContainerList, Finding } from './types.js';
import type { ExceptionUse } from './exceptions.js';

/** What a violation does to the request: refuse it, warn (kubectl prints it), or only record it. */
export type Effect = 'deny' | 'warn' | 'audit';

export interface Violation {
  readonly policy: string;
  readonly effect: Effect;
  /** the configured action was deny, but audit mode or an unchanged UPDATE turned it into a warning */
  readonly wouldDeny: boolean;
  /** the violation was already there before this UPDATE */
  readonly preexisting: boolean;
  readonly container?: { readonly name: string; readonly list: ContainerList; readonly index: number };
  readonly problem: string;
  readonly fix: string;
  /** the finding's typed reason, when the policy gives one */
  readonly code?: string;
  /** `[policy-id] container "name" (containers[i]): problem — fix` */
  readonly message: string;
}

export interface Decision {
  readonly allowed: boolean;
  /** why nothing was evaluated (excluded namespace, kind without pods, DELETE, ...) */
  readonly skipped?: string;
  readonly violations: readonly Violation[];
  /** the denial message: every violation that denies, one per line */
  readonly message?: string;
  readonly warnings: readonly string[];
  readonly auditAnnotations: Readonly<Record<string, string>>;
  /** violations a PolicyException allowed (not in `violations`) */
  readonly exceptions?: readonly ExceptionUse[];
}

// Where a container sits, as denial lines name it: `container "app" (containers[0])`.
export function containerLabel(c: { readonly name: string; readonly list: string; readonly index: number }): string {
  return `container "${c.name}" (${c.list}[${c.index}])`;
}

// Formats one finding as the line users see.
export function formatFinding(policy: string, finding: Finding): string {
  const where = finding.container
    ? containerLabel(finding.container)
    : 'pod';
  return `[${policy}] ${where}: ${finding.problem} — ${finding.fix}`;
}

const MAX_ANNOTATION = 2048;

function warningOf(v: Violation): string | undefined {
  if (v.effect !== 'warn') return undefined;
  if (v.preexisting && v.wouldDeny) return `existing violation, not blocked on update: ${v.message}`;
  if (v.wouldDeny) return `audit mode, would be denied: ${v.message}`;
  return v.message;
}

// Joins violations into the decision: denied when any violation's effect is deny.
export function decide(violations: readonly Violation[]): Decision {
  const denying = violations.filter((v) => v.effect === 'deny');
  const warnings = violations.flatMap((v) => warningOf(v) ?? []);
  const byPolicy = new Map<string, string[]>();
  for (const v of violations) byPolicy.set(v.policy, [...(byPolicy.get(v.policy) ?? []), v.message]);
  const auditAnnotations: Record<string, string> = {};
  for (const [policy, messages] of byPolicy) {
    const text = messages.join('; ');
    auditAnnotations[policy] = text.length > MAX_ANNOTATION ? `${text.slice(0, MAX_ANNOTATION - 1)}…` : text;
  }
  if (violations.length > 0) auditAnnotations.decision = denying.length > 0 ? 'deny' : violations.some((v) => v.wouldDeny) ? 'would-deny' : 'warn';
  return {
    allowed: denying.length === 0,
    violations,
    ...(denying.length > 0 ? { message: denying.map((v) => v.message).join('\n') } : {}),
    warnings,
    auditAnnotations,
  };
}

/** A denial that no policy produced (an unreadable object, no decision in time); `decision` is its audit label. */
export function refused(message: string, decision: string): Decision {
  return { allowed: false, violations: [], message, warnings: [], auditAnnotations: { decision } };
}

export function skipped(reason: string): Decision {
  return { allowed: true, skipped: reason, violations: [], warnings: [], auditAnnotations: {} };
}
