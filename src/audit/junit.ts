// JUnit XML output: one test suite per file (or namespace), one test case per resource and policy.
import { carriesPods, groupOf } from '../workload/podspecs.js';
import type { AuditSubject } from './subject.js';
import { deniesWhenEnforced, resourceId } from './subject.js';
import { INVALID_OBJECT_RULE } from './sarif.js';

// Escapes text for XML content and attributes, dropping characters XML 1.0 cannot carry.
export function xmlEscape(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

interface Case {
  name: string;
  classname: string;
  file?: string;
  line?: number;
  failure?: { message: string; type: string; text: string };
  skipped?: string;
  out?: string;
}


function casesOf(s: AuditSubject): Case[] {
  const id = resourceId(s);
  const file = s.file === '<stdin>' && s.source ? s.source : s.file;
  const at = { ...(file ? { file } : {}), ...(s.line !== undefined && file === s.file ? { line: s.line } : {}) };
  if (s.decision.skipped) {
    if (!carriesPods(groupOf(s.apiVersion), s.kind)) return [];
    return [{ name: id, classname: 'portcullis', ...at, skipped: s.decision.skipped }];
  }
  if (!s.decision.allowed && s.decision.violations.length === 0) {
    const message = s.decision.message ?? 'invalid object';
    return [{ name: `${id} [${INVALID_OBJECT_RULE}]`, classname: `portcullis.${INVALID_OBJECT_RULE}`, ...at, failure: { message, type: INVALID_OBJECT_RULE, text: message } }];
  }
  return s.policies.map((policy): Case => {
    const mine = s.decision.violations.filter((v) => v.policy === policy);
    const failing = mine.filter(deniesWhenEnforced);
    const c: Case = { name: `${id} [${policy}]`, classname: `portcullis.${policy}`, ...at };
    const first = failing[0];
    if (first) {
      const line = first.container ? s.containerLine?.(first.container.list, first.container.index) : undefined;
      if (line !== undefined && c.file === s.file) c.line = line;
      const text = failing.map((v) => v.message).join('\n');
      c.failure = { message: failing.length === 1 ? first.message : `${failing.length} violations: ${first.message}`, type: policy, text };
    }
    const notes = mine.filter((v) => !deniesWhenEnforced(v));
    if (notes.length > 0) c.out = notes.map((v) => `${v.effect}: ${v.message}`).join('\n');
    return c;
  });
}

function renderCase(c: Case): string {
  const attrs = [`name="${xmlEscape(c.name)}"`, `classname="${xmlEscape(c.classname)}"`, 'time="0"'];
  if (c.file) attrs.push(`file="${xmlEscape(c.file)}"`);
  if (c.line !== undefined) attrs.push(`line="${c.line}"`);
  const body: string[] = [];
  if (c.failure) body.push(`      <failure message="${xmlEscape(c.failure.message)}" type="${xmlEscape(c.failure.type)}">${xmlEscape(c.failure.text)}</failure>`);
  if (c.skipped) body.push(`      <skipped message="${xmlEscape(c.skipped)}"/>`);
  if (c.out) body.push(`      <system-out>${xmlEscape(c.out)}</system-out>`);
  if (body.length === 0) return `    <testcase ${attrs.join(' ')}/>`;
  return `    <testcase ${attrs.join(' ')}>\n${body.join('\n')}\n    </testcase>`;
}

export interface JunitOptions {
  /** how test suites are formed: by manifest file (audit) or by namespace (scan) */
  readonly suiteBy: 'file' | 'namespace';
}

// The JUnit XML report (the dialect Jenkins, GitLab and GitHub test reporters read).
export function formatJunit(subjects: readonly AuditSubject[], options: JunitOptions): string {
  const suites = new Map<string, Case[]>();
  for (const s of subjects) {
    const key = options.suiteBy === 'file' ? (s.file ?? '<unknown>') : (s.namespace ?? '(cluster)');
    const cases = casesOf(s);
    if (cases.length === 0) continue;
    suites.set(key, [...(suites.get(key) ?? []), ...cases]);
  }
  const count = (cases: Case[]) => ({
    tests: cases.length,
    failures: cases.filter((c) => c.failure).length,
    skipped: cases.filter((c) => c.skipped).length,
  });
  const all = [...suites.values()].flat();
  const total = count(all);
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="portcullis" tests="${total.tests}" failures="${total.failures}" errors="0" skipped="${total.skipped}" time="0">`,
  ];
  for (const [name, cases] of suites) {
    const c = count(cases);
    out.push(`  <testsuite name="${xmlEscape(name)}" tests="${c.tests}" failures="${c.failures}" errors="0" skipped="${c.skipped}" time="0">`);
    for (const tc of cases) out.push(renderCase(tc));
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}
