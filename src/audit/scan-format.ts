// Output of `portcullis scan`: table, JSON/YAML (portcullis.dev/scan/v1), and the enforce preview.
import { containerLabel } from '../engine/decision.js';
import { stringify } from 'yaml';
import type { Config } from '../config/types.js';
import type { ScanResult, ScanStats } from './scan.js';
import { resourceId, verdictOf, violationJson } from './subject.js';
import { plural, verdictLabel, violationLines } from './table.js';
import type { TableOptions } from './table.js';

export const SCAN_JSON_VERSION = 'portcullis.dev/scan/v1';
export const PREVIEW_JSON_VERSION = 'portcullis.dev/enforce-preview/v1';

function summaryOf(results: readonly ScanResult[]) {
  const count = (v: string) => results.filter((r) => verdictOf(r) === v).length;
  const checked = results.filter((r) => !r.decision.skipped);
  return {
    workloads: checked.length,
    pods: checked.reduce((n, r) => n + r.pods, 0),
    namespaces: new Set(checked.map((r) => r.namespace ?? '')).size,
    denied: count('deny'),
    warned: count('warn'),
    passed: count('pass'),
    skipped: count('skipped'),
  };
}

// Workloads that would be denied or warned, with their violations, then a summary line.
export function formatScanTable(results: readonly ScanResult[], stats?: ScanStats, options: TableOptions = {}): string {
  const lines: string[] = [];
  for (const r of results) {
    const verdict = verdictOf(r);
    if (verdict === 'pass' || verdict === 'skipped') continue;
    lines.push(`${verdictLabel(verdict, options)}${resourceId(r)}  (${r.pods} pod${r.pods === 1 ? '' : 's'})`);
    lines.push(...violationLines(r.decision, options));
  }
  const s = summaryOf(results);
  if (lines.length > 0) lines.push('');
  lines.push(`${plural(s.workloads, 'workload')} (${plural(s.pods, 'pod')}) in ${plural(s.namespaces, 'namespace')}: ${s.denied} would be denied, ${s.warned} warned, ${s.passed} passed; ${s.skipped} skipped`);
  if (stats) lines.push(`scanned in ${(stats.durationMs / 1000).toFixed(1)} s with ${Object.values(stats.calls).reduce((a, b) => a + b, 0)} API calls`);
  return `${lines.join('\n')}\n`;
}

// The scan/v1 document (schema: src/audit/schemas/scan-v1.schema.json, documented in docs/audit.md).
export function scanDocument(results: readonly ScanResult[], stats: ScanStats) {
  return {
    apiVersion: SCAN_JSON_VERSION,
    summary: summaryOf(results),
    stats: { startedAt: stats.startedAt, durationMs: stats.durationMs, listed: stats.listed, calls: stats.calls },
    results: results.map((r) => ({
      apiVersion: r.apiVersion,
      kind: r.kind,
      namespace: r.namespace ?? null,
      name: r.name,
      uid: r.uid,
      pods: r.pods,
      verdict: verdictOf(r),
      skipped: r.decision.skipped ?? null,
      message: r.decision.message ?? null,
      policies: [...r.policies],
      violations: r.decision.violations.map((v) => violationJson(v)),
    })),
  };
}

export const formatScanJson = (results: readonly ScanResult[], stats: ScanStats) => `${JSON.stringify(scanDocument(results, stats), null, 2)}\n`;
export const formatScanYaml = (results: readonly ScanResult[], stats: ScanStats) => stringify(scanDocument(results, stats), { lineWidth: 0 });

export interface PreviewScope {
  /** policies to switch to enforce (default: every evaluated policy) */
  readonly policies?: readonly string[];
  /** namespaces to switch to enforce (default: all scanned) */
  readonly namespaces?: readonly string[];
}

// "If these policies (or namespaces) were enforced, which workloads would be refused, and why": per namespace and
// policy, each workload with its violations and fixes. `alreadyEnforced` marks what the current config already denies.
export function enforcePreview(results: readonly ScanResult[], config: Config, scope: PreviewScope) {
  const inScope = (policy: string) => !scope.policies?.length || scope.policies.includes(policy);
  const byNs = new Map<string, Map<string, Array<{ r: ScanResult; vs: ScanResult['decision']['violations'] }>>>();
  for (const r of results) {
    if (r.decision.skipped) continue;
    if (scope.namespaces?.length && !scope.namespaces.includes(r.namespace ?? '')) continue;
    const ns = r.namespace ?? '';
    for (const policy of new Set(r.decision.violations.map((v) => v.policy))) {
      if (!inScope(policy)) continue;
      const vs = r.decision.violations.filter((v) => v.policy === policy);
      const policies = byNs.get(ns) ?? new Map();
      policies.set(policy, [...(policies.get(policy) ?? []), { r, vs }]);
      byNs.set(ns, policies);
    }
  }
  const namespaces = [...byNs.keys()].sort().map((ns) => {
    const audited = config.mode === 'audit' || config.auditNamespaces.includes(ns);
    return {
      namespace: ns || null,
      currentMode: audited ? 'audit' : 'enforce',
      policies: [...(byNs.get(ns) as Map<string, Array<{ r: ScanResult; vs: ScanResult['decision']['violations'] }>>).entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([policy, items]) => ({
          policy,
          currentAction: config.policies[policy]?.action ?? 'off',
          workloads: items.map(({ r, vs }) => ({
            kind: r.kind,
            name: r.name,
            pods: r.pods,
            alreadyEnforced: vs.every((v) => v.effect === 'deny'),
            violations: vs.map((v) => ({ container: v.container ?? null, problem: v.problem, fix: v.fix })),
          })),
        })),
    };
  });
  const refused = new Map<string, ScanResult>();
  for (const ns of byNs.values()) for (const items of ns.values()) for (const { r } of items) refused.set(r.uid, r);
  return {
    apiVersion: PREVIEW_JSON_VERSION,
    scope: { policies: scope.policies?.length ? [...scope.policies] : null, namespaces: scope.namespaces?.length ? [...scope.namespaces] : null },
    summary: {
      workloads: refused.size,
      pods: [...refused.values()].reduce((n, r) => n + r.pods, 0),
      namespaces: byNs.size,
    },
    namespaces,
  };
}

export type EnforcePreview = ReturnType<typeof enforcePreview>;

export function formatPreviewTable(preview: EnforcePreview): string {
  const s = preview.summary;
  const p = preview.scope.policies;
  const n = preview.scope.namespaces;
  const scope = [
    p ? `${p.length === 1 ? 'policy' : 'policies'} ${p.join(', ')}` : 'every policy',
    n ? `in ${n.length === 1 ? 'namespace' : 'namespaces'} ${n.join(', ')}` : 'in every namespace',
  ].join(' ');
  const lines = [`If ${scope} were enforced: ${plural(s.workloads, 'workload')} (${plural(s.pods, 'pod')}) in ${plural(s.namespaces, 'namespace')} would be refused`];
  for (const ns of preview.namespaces) {
    lines.push('', `namespace ${ns.namespace ?? '(cluster)'} (now: ${ns.currentMode})`);
    for (const p of ns.policies) {
      lines.push(`  ${p.policy} (now: ${p.currentAction}): ${plural(p.workloads.length, 'workload')}`);
      for (const w of p.workloads) {
        lines.push(`    ${w.kind}/${w.name} (${plural(w.pods, 'pod')})${w.alreadyEnforced ? ' [already denied for new objects; this one predates that]' : ''}`);
        for (const v of w.violations) {
          const where = v.container ? containerLabel(v.container) : 'pod';
          lines.push(`      ${where}: ${v.problem}`, `        fix: ${v.fix}`);
        }
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
