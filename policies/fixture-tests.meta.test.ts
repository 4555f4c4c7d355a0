// The built-in policies' fixtures as `portcullis test` files (examples/builtin-fixtures/<id>.yaml), one per
// spec-only policy; fails when a file is out of step with its fixtures.
// UPDATE_POLICY_DOCS=1 npx vitest run policies/fixture-tests.meta.test.ts rewrites them.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { POLICIES } from './index.js';
import { KINDS, objectOf } from '../test/helpers/pods.js';
import type { Fixture, PolicyFixtures } from '../test/helpers/fixtures.js';

const DIR = new URL('../examples/builtin-fixtures/', import.meta.url);

// A fixture as a test case: its pod (or the first kind it applies to) and the verdict, with its parameters.
function caseOf(id: string, f: Fixture, verdict: 'pass' | 'fail') {
  const kind = KINDS.find((k) => !(f.skipKinds ?? []).includes(k.kind))!;
  return {
    name: f.name,
    ...(f.params ? { policies: { [id]: f.params } } : {}),
    resource: objectOf(kind, f.spec),
    expect: { [id]: verdict },
  };
}

function fileOf(id: string, fixtures: PolicyFixtures): string {
  const doc = {
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'PolicyTest',
    policies: { [id]: { action: 'deny' } },
    cases: [...fixtures.pass.map((f) => caseOf(id, f, 'pass')), ...fixtures.fail.map((f) => caseOf(id, f, 'fail'))],
  };
  return `# Generated from policies/${id}/fixtures.ts by policies/fixture-tests.meta.test.ts: portcullis test examples/builtin-fixtures\n${stringify(doc, { lineWidth: 0 })}`;
}

describe('built-in fixtures as portcullis test files', () => {
  for (const policy of POLICIES.filter((p) => p.facts.length === 0)) {
    it(`${policy.id}`, async () => {
      const { fixtures } = (await import(`./${policy.id}/fixtures.ts`)) as { fixtures: PolicyFixtures };
      const want = fileOf(policy.id, { pass: fixtures.pass.filter((f) => !f.facts), fail: fixtures.fail.filter((f) => !f.facts) });
      const file = new URL(`${policy.id}.yaml`, DIR);
      if (process.env.UPDATE_POLICY_DOCS === '1') writeFileSync(file, want);
      expect(existsSync(file) ? readFileSync(file, 'utf8') : '', `examples/builtin-fixtures/${policy.id}.yaml (UPDATE_POLICY_DOCS=1 regenerates it)`).toBe(want);
    });
  }
});
