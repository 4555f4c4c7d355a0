// PolicyException (portcullis.dev/v1alpha1): reading one object into a checked exception, or the reasons it is
// ignored. An exception that is not valid in every part applies nowhere: never a partial (wider) reading.
import { isObject } from '../workload/k8s.js';
import { readSelector, selectorIsEmpty } from './selector.js';
import type { LabelSelector } from './selector.js';

export const EXCEPTION_GROUP = 'portcullis.dev';
export const EXCEPTION_VERSION = 'v1alpha1';
export const EXCEPTION_API_VERSION = `${EXCEPTION_GROUP}/${EXCEPTION_VERSION}`;
export const EXCEPTION_KIND = 'PolicyException';
export const EXCEPTION_PLURAL = 'policyexceptions';
/** the longest an exception may last unless configured otherwise: 90 days */
export const DEFAULT_MAX_EXCEPTION_MS = 90 * 24 * 3600 * 1000;

/** A checked exception: which workloads, containers and policies it covers, why, and until when. */
export interface PolicyException {
  /** "namespace/name" of the PolicyException object (or "file:name" for one read from a file without namespace) */
  readonly id: string;
  readonly uid?: string;
  readonly policies: readonly string[];
  readonly namespaces: readonly string[];
  /** workload kinds (empty: any kind) */
  readonly kinds: readonly string[];
  /** globs over the object's name (or generateName) */
  readonly names: readonly string[];
  readonly selector?: LabelSelector;
  /** container names (empty: any container) */
  readonly containers: readonly string[];
  /** image globs (empty: any image) */
  readonly images: readonly string[];
  readonly reason: string;
  /** epoch milliseconds */
  readonly expires: number;
}

export type ExceptionProblemCode =
  | 'NOT_AN_EXCEPTION'
  | 'MISSING_REASON'
  | 'MISSING_EXPIRES'
  | 'INVALID_EXPIRES'
  | 'EXPIRES_TOO_LATE'
  | 'MISSING_POLICIES'
  | 'UNKNOWN_POLICY'
  | 'MISSING_NAMESPACES'
  | 'MATCHES_EVERYTHING'
  | 'INVALID_FIELD';

export interface ExceptionProblem {
  readonly code: ExceptionProblemCode;
  readonly message: string;
}

export type ExceptionReading = { readonly ok: true; readonly exception: PolicyException } | { readonly ok: false; readonly id: string; readonly problems: readonly ExceptionProblem[] };

/** How an exception names a custom policy: `custom:<id>` (the CRD lists the built-in ids; custom ids are the config's). */
export const CUSTOM_POLICY_PREFIX = 'custom:';

export interface ReadOptions {
  readonly policyIds: readonly string[];
  /** the config's custom policy ids, named `custom:<id>` in spec.policies (default: none) */
  readonly customPolicyIds?: readonly string[];
  readonly maxDurationMs: number;
  /** epoch milliseconds: the expiry may be at most maxDurationMs after this */
  readonly now: number;
}

const WILDCARD_ONLY = /^[*?]*$/;

function strings(value: unknown, path: string, problems: ExceptionProblem[]): string[] {
  if (value === undefined) return [];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' && v.length > 0)) return value as string[];
  problems.push({ code: 'INVALID_FIELD', message: `${path}: expected a list of non-empty strings, got ${JSON.stringify(value)}` });
  return [];
}

// Checks reason and expiry: both present, the expiry a date no later than the configured maximum from now.
function readTerms(spec: Record<string, unknown>, options: ReadOptions, problems: ExceptionProblem[]): { reason: string; expires: number } {
  const reason = typeof spec.reason === 'string' ? spec.reason.trim() : '';
  if (!reason) problems.push({ code: 'MISSING_REASON', message: 'spec.reason: expected why the exception is needed, got none' });
  let expires = Number.NaN;
  if (spec.expires === undefined || spec.expires === null || spec.expires === '') {
    problems.push({ code: 'MISSING_EXPIRES', message: 'spec.expires: expected an RFC 3339 date, got none' });
  } else {
    expires = typeof spec.expires === 'string' ? Date.parse(spec.expires) : Number.NaN;
    if (Number.isNaN(expires)) problems.push({ code: 'INVALID_EXPIRES', message: `spec.expires: expected an RFC 3339 date, got ${JSON.stringify(spec.expires)}` });
    else if (expires - options.now > options.maxDurationMs) {
      const days = Math.round(options.maxDurationMs / 86_400_000);
      problems.push({ code: 'EXPIRES_TOO_LATE', message: `spec.expires: expected at most ${days} days ahead (${new Date(options.now + options.maxDurationMs).toISOString()}), got ${new Date(expires).toISOString()}` });
    }
  }
  return { reason, expires };
}

// Why spec.policies may not name p: a built-in id, or custom:<id> of a custom policy the config declares.
function unknownPolicy(p: string, options: ReadOptions): string | undefined {
  const custom = options.customPolicyIds ?? [];
  if (p.startsWith(CUSTOM_POLICY_PREFIX) ? custom.includes(p.slice(CUSTOM_POLICY_PREFIX.length)) : options.policyIds.includes(p)) return undefined;
  if (custom.includes(p)) return `expected "${CUSTOM_POLICY_PREFIX}${p}" for the custom policy, got "${p}"`;
  return `expected one of ${[...options.policyIds, ...custom.map((id) => `${CUSTOM_POLICY_PREFIX}${id}`)].join(', ')}, got "${p}"`;
}

// Checks what the exception selects: known policies, named namespaces, and a workload selector narrower than "all".
function readScope(spec: Record<string, unknown>, options: ReadOptions, problems: ExceptionProblem[]) {
  const policies = strings(spec.policies, 'spec.policies', problems);
  if (policies.length === 0) problems.push({ code: 'MISSING_POLICIES', message: 'spec.policies: expected at least one policy id, got none' });
  for (const p of policies) {
    const problem = unknownPolicy(p, options);
    if (problem) problems.push({ code: 'UNKNOWN_POLICY', message: `spec.policies: ${problem}` });
  }
  const match = isObject(spec.match) ? spec.match : {};
  const namespaces = strings(match.namespaces, 'spec.match.namespaces', problems);
  if (namespaces.length === 0) problems.push({ code: 'MISSING_NAMESPACES', message: 'spec.match.namespaces: expected at least one namespace, got none' });
  for (const ns of namespaces) if (WILDCARD_ONLY.test(ns) || /[*?[]/.test(ns)) problems.push({ code: 'MATCHES_EVERYTHING', message: `spec.match.namespaces: expected namespace names, got the pattern "${ns}"` });
  const kinds = strings(match.kinds, 'spec.match.kinds', problems);
  const names = strings(match.names, 'spec.match.names', problems);
  for (const n of names) if (WILDCARD_ONLY.test(n)) problems.push({ code: 'MATCHES_EVERYTHING', message: `spec.match.names: expected a glob with a literal part, got "${n}"` });
  let selector: LabelSelector | undefined;
  if (match.selector !== undefined) {
    const read = readSelector(match.selector, 'spec.match.selector');
    if (typeof read === 'string') problems.push({ code: 'INVALID_FIELD', message: read });
    else if (selectorIsEmpty(read)) problems.push({ code: 'MATCHES_EVERYTHING', message: 'spec.match.selector: expected matchLabels or matchExpressions, got an empty selector (it selects everything)' });
    else selector = read;
  }
  if (names.length === 0 && match.selector === undefined) {
    problems.push({ code: 'MATCHES_EVERYTHING', message: 'spec.match: expected names or a selector, got neither (it would select every workload of the namespaces)' });
  }
  const containers = strings(spec.containers, 'spec.containers', problems);
  const images = strings(spec.images, 'spec.images', problems);
  for (const i of images) if (WILDCARD_ONLY.test(i)) problems.push({ code: 'MATCHES_EVERYTHING', message: `spec.images: expected a glob with a literal part, got "${i}"` });
  const ids = policies.map((p) => (p.startsWith(CUSTOM_POLICY_PREFIX) ? p.slice(CUSTOM_POLICY_PREFIX.length) : p));
  return { policies: ids, namespaces, kinds, names, ...(selector ? { selector } : {}), containers, images };
}

// Reads one PolicyException object; every problem is listed, and any problem means the exception is ignored.
export function readException(obj: unknown, options: ReadOptions): ExceptionReading {
  const meta = isObject(obj) && isObject(obj.metadata) ? obj.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '(unnamed)';
  const id = typeof meta.namespace === 'string' ? `${meta.namespace}/${name}` : name;
  if (!isObject(obj) || obj.apiVersion !== EXCEPTION_API_VERSION || obj.kind !== EXCEPTION_KIND || !isObject(obj.spec)) {
    return { ok: false, id, problems: [{ code: 'NOT_AN_EXCEPTION', message: `expected a ${EXCEPTION_API_VERSION} ${EXCEPTION_KIND} with a spec` }] };
  }
  const problems: ExceptionProblem[] = [];
  const scope = readScope(obj.spec, options, problems);
  const terms = readTerms(obj.spec, options, problems);
  if (problems.length > 0) return { ok: false, id, problems };
  return { ok: true, exception: { id, ...(typeof meta.uid === 'string' ? { uid: meta.uid } : {}), ...scope, ...terms } };
}
