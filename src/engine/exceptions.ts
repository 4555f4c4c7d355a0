// Exceptions in the engine: the one place where a PolicyException turns a violation into an allowed, recorded use.
// The webhook, the background scan and `portcullis audit --exceptions` all evaluate through here, with one clock:
// an expired exception applies nowhere.
import { isObject } from '../workload/k8s.js';
import { rawPodSpec } from '../workload/podspecs.js';
import { decide } from './decision.js';
import type { Decision, Violation } from './decision.js';
import { matchesAny } from './globs.js';
import { selectorMatches } from './selector.js';
import type { PolicyException } from './exception-spec.js';

/** An admission answer warns that an exception it used runs out within this long. */
export const EXPIRY_WARNING_MS = 7 * 24 * 3600 * 1000;

/** One violation an exception allowed. */
export interface ExceptionUse {
  /** "namespace/name" of the exception */
  readonly exception: string;
  readonly policy: string;
  readonly container?: string;
  /** RFC 3339 */
  readonly expires: string;
  readonly reason: string;
  /** the violation's own line, as it would have been reported */
  readonly message: string;
}

/** The workload an evaluation is about, as exceptions select it. */
export interface ExceptionSubject {
  readonly namespace: string;
  readonly kind: string;
  /** metadata.name, else metadata.generateName */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** Where the engine finds the exceptions in force; `used` hears of every evaluation that used one (logs, metrics). */
export interface ExceptionSource {
  current(): readonly PolicyException[];
  used?(uses: readonly ExceptionUse[], subject: ExceptionSubject): void;
}

export interface ExceptionContext {
  readonly source?: ExceptionSource;
  /** epoch milliseconds (injectable for tests) */
  readonly now: () => number;
}

interface Evaluated {
  readonly group: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly object: unknown;
}

// The namespace, kind, name and labels of the evaluated object ("default" when a manifest names no namespace).
export function subjectOf(input: Evaluated): ExceptionSubject {
  const meta = isObject(input.object) && isObject(input.object.metadata) ? input.object.metadata : {};
  const name = typeof meta.name === 'string' && meta.name ? meta.name : typeof meta.generateName === 'string' ? meta.generateName : '';
  const labels: Record<string, string> = {};
  if (isObject(meta.labels)) for (const [k, v] of Object.entries(meta.labels)) if (typeof v === 'string') labels[k] = v;
  const namespace = input.namespace ?? (typeof meta.namespace === 'string' ? meta.namespace : 'default');
  return { namespace, kind: input.kind, name, labels };
}

// Whether the exception selects this workload (namespace, kind, name globs, label selector).
export function selectsWorkload(e: PolicyException, s: ExceptionSubject): boolean {
  if (!e.namespaces.includes(s.namespace)) return false;
  if (e.kinds.length > 0 && !e.kinds.includes(s.kind)) return false;
  if (e.names.length > 0 && !matchesAny(e.names, s.name)) return false;
  return !e.selector || selectorMatches(e.selector, s.labels);
}

function imageAt(input: Evaluated, v: Violation): string | undefined {
  if (!v.container) return undefined;
  const spec = rawPodSpec(input.object, input.group, input.kind);
  const list = isObject(spec) ? spec[v.container.list] : undefined;
  const c = Array.isArray(list) ? (list[v.container.index] as unknown) : undefined;
  return isObject(c) && typeof c.image === 'string' ? c.image : undefined;
}

// Whether the exception covers this violation: its policy, and its container and image when the exception names them.
function covers(e: PolicyException, v: Violation, input: Evaluated): boolean {
  if (!e.policies.includes(v.policy)) return false;
  if (e.containers.length === 0 && e.images.length === 0) return true;
  if (!v.container) return false;
  if (e.containers.length > 0 && !e.containers.includes(v.container.name)) return false;
  if (e.images.length === 0) return true;
  const image = imageAt(input, v);
  return image !== undefined && matchesAny(e.images, image);
}

// "5 days", "3 h", "2 min": how long until an expiry, for a warning.
function timeLeft(ms: number): string {
  const up = (unit: number) => Math.max(1, Math.ceil(ms / unit));
  if (ms < 3_600_000) return `${up(60_000)} min`;
  if (ms < 86_400_000) return `${up(3_600_000)} h`;
  const d = Math.floor(ms / 86_400_000);
  return d === 1 ? '1 day' : `${d} days`;
}

// The warnings an admission answer carries: each use, and each exception that runs out within a week.
function warningsOf(uses: readonly ExceptionUse[], exceptions: readonly PolicyException[], now: number): string[] {
  const lines = uses.map((u) => `exception ${u.exception} (until ${u.expires}) allows: ${u.message}`);
  for (const e of exceptions) {
    const left = e.expires - now;
    if (left <= EXPIRY_WARNING_MS) lines.push(`exception ${e.id} expires in ${timeLeft(left)} (${new Date(e.expires).toISOString()}): renew it through review or fix the workload before then`);
  }
  return lines;
}

// Applies the exceptions in force to a decision: covered violations leave it (and are listed as uses), the rest
// decide as before. Decisions without violations (clean, skipped, unreadable objects) are returned unchanged.
export function applyExceptions(decision: Decision, input: Evaluated, context: ExceptionContext): Decision {
  if (!context.source || decision.violations.length === 0) return decision;
  const now = context.now();
  const subject = subjectOf(input);
  const inForce = context.source.current().filter((e) => e.expires > now && selectsWorkload(e, subject));
  if (inForce.length === 0) return decision;
  const uses: ExceptionUse[] = [];
  const used = new Map<string, PolicyException>();
  const kept: Violation[] = [];
  for (const v of decision.violations) {
    const e = inForce.find((x) => covers(x, v, input));
    if (!e) {
      kept.push(v);
      continue;
    }
    used.set(e.id, e);
    uses.push({ exception: e.id, policy: v.policy, ...(v.container ? { container: v.container.name } : {}), expires: new Date(e.expires).toISOString(), reason: e.reason, message: v.message });
  }
  if (uses.length === 0) return decision;
  context.source.used?.(uses, subject);
  const rest = decide(kept);
  return {
    ...rest,
    warnings: [...rest.warnings, ...warningsOf(uses, [...used.values()], now)],
    auditAnnotations: { ...rest.auditAnnotations, exceptions: [...used.keys()].join(',') },
    exceptions: uses,
  };
}
