// Output of `portcullis audit`: a table for people, JSON for tools.
import type { ResourceResult } from './offline.js';
import { wouldBeDenied } from './offline.js';

export const AUDIT_JSON_VERSION = 'portcullis.dev/audit/v1';

function where(r: ResourceResult): string {
  return `${r.kind}/${r.namespace ? `${r.namespace}/` : ''}${r.name || '(unnamed)'}`;
}

// One line per resource verdict, then one indented line per violation.
export function formatTable(results: readonly ResourceResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    if (r.decision.skipped) continue;
    const verdict = wouldBeDenied(r) ? 'DENY' : r.decision.violations.length > 0 ? 'WARN' : 'PASS';
    lines.push(`${verdict.padEnd(5)}${where(r)}  (${r.file}:${r.line})`);
    if (r.decision.message && r.decision.violations.length === 0) lines.push(`     ${r.decision.message}`);
    for (const v of r.decision.violations) lines.push(`     ${v.message}`);
  }
  const checked = results.filter((r) => !r.decision.skipped);
  const denied = checked.filter(wouldBeDenied).length;
  lines.push('', `${checked.length} resources checked, ${denied} would be denied, ${results.length - checked.length} skipped`);
  return `${lines.join('\n')}\n`;
}

// A stable JSON document: { apiVersion, summary, results[] }.
export function formatJson(results: readonly ResourceResult[]): string {
  const checked = results.filter((r) => !r.decision.skipped);
  const doc = {
    apiVersion: AUDIT_JSON_VERSION,
    summary: { resources: checked.length, denied: checked.filter(wouldBeDenied).length, skipped: results.length - checked.length },
    results: results.map((r) => ({
      file: r.file,
      document: r.doc,
      line: r.line,
      apiVersion: r.apiVersion,
      kind: r.kind,
      namespace: r.namespace ?? null,
      name: r.name,
      verdict: r.decision.skipped ? 'skipped' : wouldBeDenied(r) ? 'deny' : r.decision.violations.length > 0 ? 'warn' : 'pass',
      skipped: r.decision.skipped ?? null,
      message: r.decision.message ?? null,
      violations: r.decision.violations.map((v) => ({
        policy: v.policy,
        effect: v.effect,
        wouldDeny: v.wouldDeny,
        container: v.container ?? null,
        problem: v.problem,
        fix: v.fix,
        message: v.message,
      })),
    })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
