// Output of `portcullis audit`: a table for people, JSON for tools (SARIF and JUnit live in sarif.ts and junit.ts).
import type { AuditSubject } from './subject.js';
import { resourceId, verdictOf, violationJson, wouldBeDenied } from './subject.js';

export const AUDIT_JSON_VERSION = 'portcullis.dev/audit/v1';

// One line per resource verdict, then one indented line per violation.
export function formatTable(results: readonly AuditSubject[]): string {
  const lines: string[] = [];
  for (const r of results) {
    if (r.decision.skipped) continue;
    const verdict = wouldBeDenied(r) ? 'DENY' : r.decision.violations.length > 0 ? 'WARN' : 'PASS';
    lines.push(`${verdict.padEnd(5)}${resourceId(r)}  (${r.file}:${r.line})`);
    if (r.decision.message && r.decision.violations.length === 0) lines.push(`     ${r.decision.message}`);
    for (const v of r.decision.violations) lines.push(`     ${v.message}`);
  }
  const checked = results.filter((r) => !r.decision.skipped);
  const denied = checked.filter(wouldBeDenied).length;
  lines.push('', `${checked.length} resources checked, ${denied} would be denied, ${results.length - checked.length} skipped`);
  return `${lines.join('\n')}\n`;
}

// The audit/v1 document (schema: src/audit/schemas/audit-v1.schema.json, documented in docs/audit.md).
export function auditDocument(results: readonly AuditSubject[]) {
  const checked = results.filter((r) => !r.decision.skipped);
  return {
    apiVersion: AUDIT_JSON_VERSION,
    summary: { resources: checked.length, denied: checked.filter(wouldBeDenied).length, skipped: results.length - checked.length },
    results: results.map((r) => ({
      file: r.file ?? null,
      document: r.doc ?? null,
      line: r.line ?? null,
      apiVersion: r.apiVersion,
      kind: r.kind,
      namespace: r.namespace ?? null,
      name: r.name,
      verdict: verdictOf(r),
      skipped: r.decision.skipped ?? null,
      message: r.decision.message ?? null,
      policies: [...r.policies],
      violations: r.decision.violations.map((v) => violationJson(v, (v.container && r.containerLine?.(v.container.list, v.container.index)) ?? null)),
    })),
  };
}

// A stable JSON document: { apiVersion, summary, results[] }.
export function formatJson(results: readonly AuditSubject[]): string {
  return `${JSON.stringify(auditDocument(results), null, 2)}\n`;
}
