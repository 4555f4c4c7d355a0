// Output of `portcullis audit`: a table for people, JSON for tools (SARIF and JUnit live in sarif.ts and junit.ts).
import { stringify } from 'yaml';
import type { AuditSubject } from './subject.js';
import { resourceId, verdictOf, violationJson, wouldBeDenied } from './subject.js';
import { plural, verdictLabel, violationLines } from './table.js';
import type { TableOptions } from './table.js';

export const AUDIT_JSON_VERSION = 'portcullis.dev/audit/v1';

// One line per resource verdict (skipped ones with the reason), then one indented line per violation with its effect.
export function formatTable(results: readonly AuditSubject[], options: TableOptions = {}): string {
  const lines: string[] = [];
  for (const r of results) {
    const verdict = verdictOf(r);
    const where = r.file !== undefined ? `  (${r.file}:${r.line ?? '?'})` : '';
    lines.push(`${verdictLabel(verdict, options)}${resourceId(r)}${where}${r.decision.skipped ? `: ${r.decision.skipped}` : ''}`);
    lines.push(...violationLines(r.decision, options));
  }
  const checked = results.filter((r) => !r.decision.skipped);
  const denied = checked.filter(wouldBeDenied).length;
  lines.push('', `${plural(checked.length, 'resource')} checked, ${denied} would be denied, ${results.length - checked.length} skipped`);
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
      ...(r.decision.exceptions?.length ? { exceptions: r.decision.exceptions.map((u) => ({ ...u, container: u.container ?? null })) } : {}),
    })),
  };
}

// A stable JSON document: { apiVersion, summary, results[] }.
export function formatJson(results: readonly AuditSubject[]): string {
  return `${JSON.stringify(auditDocument(results), null, 2)}\n`;
}

// The same document as YAML.
export function formatYaml(results: readonly AuditSubject[]): string {
  return stringify(auditDocument(results), { lineWidth: 0 });
}
