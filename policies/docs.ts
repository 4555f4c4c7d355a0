// The README's policy table, generated from the policy list (policies/fixtures.meta.test.ts keeps it current).
import type { Policy } from '../src/engine/types.js';

export const TABLE_START = '<!-- policies:start -->';
export const TABLE_END = '<!-- policies:end -->';

function escape(text: string): string {
  return text.replace(/\|/g, '\\|');
}

// One row per policy: id, what it refuses, severity, category, default action, Pod Security profile and whether the
// fail-safe ValidatingAdmissionPolicies carry it (its rule in CEL) or only the webhook (it reads image facts).
export function policyTable(policies: readonly Policy[]): string {
  const rows = policies.map((p) => {
    const profile = p.podSecurity ? (p.podSecurity.baseline ? 'baseline' : 'restricted') : '';
    const failSafe = p.cel ? 'yes' : `webhook only (reads ${p.facts.join(', ')})`;
    return `| \`${p.id}\` | ${escape(p.description)} | ${p.severity} | ${p.category} | \`${p.defaultAction}\` | ${profile} | ${failSafe} |`;
  });
  return [
    TABLE_START,
    '| policy id | rule | severity | category | default | Pod Security profile | [fail-safe](docs/failsafe.md) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    TABLE_END,
  ].join('\n');
}
