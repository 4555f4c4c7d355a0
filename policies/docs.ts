// The README's policy table, generated from the policy list (policies/fixtures.meta.test.ts keeps it current).
import type { Policy } from '../src/engine/types.js';

export const TABLE_START = '<!-- policies:start -->';
export const TABLE_END = '<!-- policies:end -->';

function escape(text: string): string {
  return text.replace(/\|/g, '\\|');
}

// One row per policy: id, what it refuses, severity, category, default action and Pod Security profile.
export function policyTable(policies: readonly Policy[]): string {
  const rows = policies.map((p) => {
    const profile = p.podSecurity ? (p.podSecurity.baseline ? 'baseline' : 'restricted') : '';
    return `| \`${p.id}\` | ${escape(p.description)} | ${p.severity} | ${p.category} | \`${p.defaultAction}\` | ${profile} |`;
  });
  return [
    TABLE_START,
    '| policy id | rule | severity | category | default | Pod Security profile |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    TABLE_END,
  ].join('\n');
}
