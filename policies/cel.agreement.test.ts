// Every built-in policy's CEL rules (the fail-safe ValidatingAdmissionPolicies) agree with its TypeScript check
// on every fixture, on every pod-carrying kind: the same verdict and the same sites. The rules that read the
// metadata next to the pod spec (annotations, owner references) also agree on metadata cases.
import { describe, expect, it } from 'vitest';
import { POLICIES } from './index.js';
import { compileCustomPolicy } from '../src/custom/policy.js';
import { celParamsOf } from '../src/failsafe/cel-rules.js';
import { createEngine } from '../src/engine/evaluate.js';
import type { Policy } from '../src/engine/types.js';
import { configWith } from '../test/helpers/engine.js';
import { KINDS, objectOf, evaluateObject } from '../test/helpers/pods.js';
import { POD_METADATA_CASES, withPodMetadata } from '../test/helpers/pod-metadata.js';
import type { Json } from '../test/helpers/pods.js';
import type { PolicyFixtures } from '../test/helpers/fixtures.js';
import type { Config } from '../src/config/types.js';

const withCel = POLICIES.filter((p) => p.cel);

function sites(config: Config, object: Record<string, unknown>) {
  return evaluateObject(createEngine({ config: () => config }), object).then((d) => ({
    allowed: d.allowed,
    sites: [...new Set(d.violations.map((v) => (v.container ? `${v.container.list}[${v.container.index}]` : 'pod')))].sort(),
  }));
}

// The engine's config with only this policy on, and the same with the policy's CEL rules in its place.
function configs(policy: Policy, params: Record<string, unknown> = {}): [Config, Config] {
  const builtin = configWith({ [policy.id]: { action: 'deny', ...params } });
  const cel = celParamsOf(policy, builtin.policies[policy.id]!.params);
  if (!cel.ok) throw new Error(cel.reason);
  const compiled = compileCustomPolicy({ id: policy.id, title: policy.title, params: cel.params, ...policy.cel });
  const settings = { ...builtin.policies[policy.id]!, params: cel.params };
  return [builtin, { ...builtin, policies: { ...builtin.policies, [policy.id]: settings }, catalog: [{ ...compiled, appliesToWindows: policy.appliesToWindows }] }];
}

// The engine's and the CEL rules' verdicts on one object, labelled.
async function both(policy: Policy, params: Record<string, unknown> | undefined, label: Record<string, unknown>, object: Json) {
  const [builtin, cel] = configs(policy, params);
  const [want, got] = [await sites(builtin, object), await sites(cel, structuredClone(object))];
  return [{ ...label, ...got }, { ...label, ...want }] as const;
}

describe('built-in policies in CEL agree with their checks', () => {
  it('every built-in that needs no image facts has CEL rules', () => {
    expect(POLICIES.filter((p) => p.facts.length === 0 && !p.cel).map((p) => p.id)).toEqual([]);
  });
  for (const policy of withCel) {
    it(`${policy.id}: every fixture, every kind`, async () => {
      const { fixtures } = (await import(`./${policy.id}/fixtures.ts`)) as { fixtures: PolicyFixtures };
      let agreed = 0;
      for (const f of [...fixtures.pass, ...fixtures.fail]) {
        for (const kind of KINDS) {
          if ((f.podOnly && kind.kind !== 'Pod') || f.skipKinds?.includes(kind.kind)) continue;
          const [got, want] = await both(policy, f.params, { fixture: f.name, kind: kind.kind }, objectOf(kind, f.spec));
          expect(got).toEqual(want);
          agreed++;
        }
      }
      expect(agreed).toBeGreaterThan(0);
    });
  }
});

describe('CEL rules reading the pod metadata agree with their checks', () => {
  for (const c of POD_METADATA_CASES) {
    it(`${c.policy}: ${c.name}, every kind`, async () => {
      const policy = POLICIES.find((p) => p.id === c.policy)!;
      let denied = 0;
      for (const kind of KINDS) {
        const [got, want] = await both(policy, undefined, { kind: kind.kind }, withPodMetadata(kind, c.metadata));
        expect(got).toEqual(want);
        if (!want.allowed) denied++;
      }
      expect(denied > 0).toBe(c.denied);
    });
  }
});
