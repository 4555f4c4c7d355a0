// Every built-in policy's CEL rules (the fail-safe ValidatingAdmissionPolicies) agree with its TypeScript check
// on every fixture, on every pod-carrying kind: the same verdict and the same sites.
import { describe, expect, it } from 'vitest';
import { POLICIES } from './index.js';
import { compileCustomPolicy } from '../src/custom/policy.js';
import { createEngine } from '../src/engine/evaluate.js';
import { configWith } from '../test/helpers/engine.js';
import { KINDS, objectOf, evaluateObject } from '../test/helpers/pods.js';
import type { PolicyFixtures } from '../test/helpers/fixtures.js';
import type { Config } from '../src/config/types.js';

const withCel = POLICIES.filter((p) => p.cel);

function sites(config: Config, object: Record<string, unknown>) {
  return evaluateObject(createEngine({ config: () => config }), object).then((d) => ({
    allowed: d.allowed,
    sites: [...new Set(d.violations.map((v) => (v.container ? `${v.container.list}[${v.container.index}]` : 'pod')))].sort(),
  }));
}

describe('built-in policies in CEL agree with their checks', () => {
  it('at least the spec-only controls have CEL rules', () => {
    expect(withCel.length).toBeGreaterThanOrEqual(7);
  });
  for (const policy of withCel) {
    it(`${policy.id}: every fixture, every kind`, async () => {
      const { fixtures } = (await import(`./${policy.id}/fixtures.ts`)) as { fixtures: PolicyFixtures };
      let agreed = 0;
      for (const f of [...fixtures.pass, ...fixtures.fail]) {
        const builtin = configWith({ [policy.id]: { action: 'deny', ...(f.params ?? {}) } });
        const params = builtin.policies[policy.id]!.params;
        const cel = compileCustomPolicy({ id: policy.id, title: policy.title, params, ...policy.cel });
        const celConfig: Config = { ...builtin, catalog: [{ ...cel, appliesToWindows: policy.appliesToWindows }] };
        for (const kind of KINDS) {
          if ((f.podOnly && kind.kind !== 'Pod') || f.skipKinds?.includes(kind.kind)) continue;
          const object = objectOf(kind, f.spec);
          const [want, got] = [await sites(builtin, object), await sites(celConfig, structuredClone(object))];
          expect({ fixture: f.name, kind: kind.kind, ...got }).toEqual({ fixture: f.name, kind: kind.kind, ...want });
          agreed++;
        }
      }
      expect(agreed).toBeGreaterThan(0);
    });
  }
});
