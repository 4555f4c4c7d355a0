// Policy reports (one per namespace) and a cluster report from scan results, in OpenReports or wg-policy form
// (report-api.ts): the format Policy Reporter reads. Size is bounded: one result per workload and policy, at most
// maxResults per report. Results a PolicyException covers are `skip`, naming the exception and its expiry.
import type { Violation } from '../engine/decision.js';
import type { Category, Policy, Severity } from '../engine/types.js';
import type { ExceptionUse } from '../engine/exceptions.js';
import type { ScanResult } from './scan.js';
import { WGPOLICY } from './report-api.js';
import type { ReportApi } from './report-api.js';

export const REPORT_NAME = 'portcullis';
export const CLUSTER_REPORT_NAME = 'portcullis-cluster';
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'portcullis' } as const;
export const TRUNCATED_ANNOTATION = 'portcullis.dev/truncated-results';
export const SOURCE = 'portcullis';

export type ReportResultValue = 'pass' | 'fail' | 'warn' | 'error' | 'skip';
export type { Severity } from '../engine/types.js';

export interface ObjectReference {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
}

export interface ReportResult {
  source: string;
  policy: string;
  rule: string;
  category: string;
  severity: Severity;
  result: ReportResultValue;
  scored: boolean;
  message: string;
  resources: ObjectReference[];
  timestamp: { seconds: number; nanos: number };
  properties?: Record<string, string>;
}

export interface Summary {
  pass: number;
  fail: number;
  warn: number;
  error: number;
  skip: number;
}

export interface PolicyReport {
  apiVersion: string;
  /** PolicyReport/ClusterPolicyReport (wg-policy) or Report/ClusterReport (OpenReports) */
  kind: string;
  metadata: { name: string; namespace?: string; labels: Record<string, string>; annotations?: Record<string, string>; resourceVersion?: string };
  summary: Summary;
  results: ReportResult[];
}

/** The result for an object whose pod spec cannot be read: no policy judged it. */
const INVALID_OBJECT_META: { severity: Severity; category: Category | 'Validation' } = { severity: 'high', category: 'Validation' };
const MAX_MESSAGE = 1024;

export interface BuildOptions {
  readonly now: Date;
  /** the policy list the results come from: each result takes its policy's severity and category */
  readonly policies: readonly Policy[];
  /** results per report at most (fail first, then warn, then pass); default 1000 */
  readonly maxResults?: number;
  /** the report API to write (default wgpolicyk8s.io/v1alpha2) */
  readonly api?: ReportApi;
}

export interface BuiltReports {
  readonly api: ReportApi;
  /** one PolicyReport per namespace with at least one evaluated workload */
  readonly namespaced: Map<string, PolicyReport>;
  /** cluster-scoped results, or undefined when there are none */
  readonly cluster?: PolicyReport;
}

const blocks = (v: Violation) => v.effect === 'deny' || v.wouldDeny;

function clip(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text;
}

// One result per evaluated policy of a workload: fail (would be denied), warn (warn/audit), or pass.
function resultsOf(r: ScanResult, timestamp: ReportResult['timestamp'], meta: ReadonlyMap<string, Policy>): ReportResult[] {
  const resource: ObjectReference = { apiVersion: r.apiVersion, kind: r.kind, name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}), uid: r.uid };
  const metaOf = (id: string) => {
    const policy = meta.get(id);
    if (policy) return { severity: policy.severity, category: policy.category };
    if (id === 'invalid-object') return INVALID_OBJECT_META;
    throw new Error(`policy report: expected a policy of the list, got "${id}"`);
  };
  const base = (policy: string) => ({
    source: SOURCE,
    policy,
    rule: policy,
    ...metaOf(policy),
    scored: true,
    resources: [resource],
    timestamp,
  });
  if (!r.decision.allowed && r.decision.violations.length === 0) {
    return [{ ...base('invalid-object'), result: 'error', message: clip(r.decision.message ?? 'invalid object'), properties: { pods: String(r.pods) } }];
  }
  return r.policies.map((policy): ReportResult => {
    const mine = r.decision.violations.filter((v) => v.policy === policy);
    const excepted = exceptionProperties(r.decision.exceptions?.filter((u) => u.policy === policy) ?? []);
    if (mine.length === 0 && excepted) {
      return { ...base(policy), result: 'skip', message: clip(`${policy}: allowed by exception ${excepted.exception} until ${excepted.expires}`), properties: { pods: String(r.pods), ...excepted } };
    }
    if (mine.length === 0) return { ...base(policy), result: 'pass', message: `${policy}: passed`, properties: { pods: String(r.pods) } };
    const result: ReportResultValue = mine.some(blocks) ? 'fail' : 'warn';
    const containers = [...new Set(mine.flatMap((v) => (v.container ? [v.container.name] : [])))];
    const codes = [...new Set(mine.flatMap((v) => (v.code ? [v.code] : [])))];
    return {
      ...base(policy),
      result,
      message: clip(mine.map((v) => v.message).join('\n')),
      properties: {
        pods: String(r.pods),
        ...(containers.length ? { containers: containers.join(',') } : {}),
        ...(codes.length ? { codes: codes.join(',') } : {}),
        fix: clip([...new Set(mine.map((v) => v.fix))].join('; ')),
        action: mine[0]?.wouldDeny ? 'deny (audit mode)' : (mine[0]?.effect ?? 'deny'),
        ...excepted,
      },
    };
  });
}

// The properties naming the exceptions that covered a policy's violations (exception, expires, reason).
function exceptionProperties(uses: readonly ExceptionUse[]): { exception: string; expires: string; reason: string } | undefined {
  if (uses.length === 0) return undefined;
  const names = [...new Set(uses.map((u) => u.exception))];
  const expires = uses.map((u) => u.expires).sort()[0] as string;
  return { exception: names.join(','), expires, reason: clip([...new Set(uses.map((u) => u.reason))].join('; ')) };
}

const RANK: Record<ReportResultValue, number> = { error: 0, fail: 1, warn: 2, skip: 3, pass: 4 };

function summarize(results: readonly ReportResult[]): Summary {
  const s: Summary = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  for (const r of results) s[r.result]++;
  return s;
}

function reportOf(api: ReportApi, namespace: string | undefined, all: ReportResult[], max: number): PolicyReport {
  const sorted = [...all].sort((a, b) => RANK[a.result] - RANK[b.result]);
  const kept = sorted.slice(0, max);
  const dropped = sorted.length - kept.length;
  return {
    apiVersion: api.apiVersion,
    kind: namespace ? api.kind : api.clusterKind,
    metadata: {
      name: namespace ? REPORT_NAME : CLUSTER_REPORT_NAME,
      ...(namespace ? { namespace } : {}),
      labels: { ...MANAGED_BY },
      ...(dropped > 0 ? { annotations: { [TRUNCATED_ANNOTATION]: String(dropped) } } : {}),
    },
    // the summary counts every result, also those left out to bound the report's size
    summary: summarize(all),
    results: kept,
  };
}

// Builds the reports for one scan; skipped workloads (excluded namespaces) produce no result.
export function buildPolicyReports(results: readonly ScanResult[], options: BuildOptions): BuiltReports {
  const ms = options.now.getTime();
  const timestamp = { seconds: Math.floor(ms / 1000), nanos: 0 };
  const max = options.maxResults ?? 1000;
  const meta = new Map(options.policies.map((p) => [p.id, p]));
  const api = options.api ?? WGPOLICY;
  const byNs = new Map<string, ReportResult[]>();
  const cluster: ReportResult[] = [];
  for (const r of results) {
    if (r.decision.skipped) continue;
    const rs = resultsOf(r, timestamp, meta);
    if (rs.length === 0) continue;
    if (r.namespace) byNs.set(r.namespace, [...(byNs.get(r.namespace) ?? []), ...rs]);
    else cluster.push(...rs);
  }
  const namespaced = new Map<string, PolicyReport>();
  for (const [ns, rs] of byNs) namespaced.set(ns, reportOf(api, ns, rs, max));
  return { api, namespaced, ...(cluster.length ? { cluster: reportOf(api, undefined, cluster, max) } : {}) };
}

// JSON with object keys sorted, so objects read back from the API server compare equal.
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

// Whether two reports say the same thing, timestamps aside (an unchanged report is not rewritten).
type Comparable = { summary: Summary; results?: readonly ReportResult[]; metadata: { annotations?: Record<string, string> } };

export function sameContent(a: Comparable, b: Comparable): boolean {
  const strip = (r: Comparable) =>
    canonical({
      summary: r.summary,
      truncated: r.metadata.annotations?.[TRUNCATED_ANNOTATION] ?? null,
      results: (r.results ?? []).map(({ timestamp: _t, ...rest }) => rest),
    });
  return strip(a) === strip(b);
}
