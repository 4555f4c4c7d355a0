// Outputs of `portcullis test`: a table, and JUnit XML (one suite per test file, one case per resource and policy).
import { xmlEscape } from '../audit/junit.js';
import type { CaseResult } from './run.js';

const expectedText = (r: CaseResult): string => `${r.expected.verdict}${r.expected.message ? ` "${r.expected.message}"` : ''}`;

// One line per case and policy, mismatches with the messages the policy gave; then the totals.
export function formatTestTable(results: readonly CaseResult[]): string {
  const rows = results.map((r) => [r.ok ? 'ok' : 'MISMATCH', r.file, r.case, r.policy, expectedText(r), r.got]);
  const head = ['RESULT', 'FILE', 'CASE', 'POLICY', 'EXPECTED', 'GOT'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [line(head), ...results.flatMap((r, i) => [line(rows[i]!), ...(r.ok ? [] : r.messages.map((m) => `    ${m}`))])];
  const failed = results.filter((r) => !r.ok).length;
  out.push('', `${results.length - failed} of ${results.length} expectations met${failed > 0 ? `, ${failed} mismatched` : ''}`);
  return `${out.join('\n')}\n`;
}

// JUnit XML for CI: a failure per mismatch naming what was expected and what the policy said.
export function formatTestJunit(results: readonly CaseResult[]): string {
  const byFile = new Map<string, CaseResult[]>();
  for (const r of results) byFile.set(r.file, [...(byFile.get(r.file) ?? []), r]);
  const suites = [...byFile].map(([file, rs]) => {
    const cases = rs.map((r) => {
      const attrs = `name="${xmlEscape(`${r.case} [${r.policy}]`)}" classname="portcullis.${xmlEscape(r.policy)}" file="${xmlEscape(file)}"`;
      if (r.ok) return `    <testcase ${attrs}/>`;
      const message = `expected ${expectedText(r)}, got ${r.got}`;
      return `    <testcase ${attrs}>\n      <failure message="${xmlEscape(message)}" type="mismatch">${xmlEscape([message, ...r.messages].join('\n'))}</failure>\n    </testcase>`;
    });
    return `  <testsuite name="${xmlEscape(file)}" tests="${rs.length}" failures="${rs.filter((r) => !r.ok).length}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="portcullis test" tests="${results.length}" failures="${results.filter((r) => !r.ok).length}">\n${suites.join('\n')}\n</testsuites>\n`;
}
