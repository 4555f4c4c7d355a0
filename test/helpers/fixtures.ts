// Table-driven policy fixtures: a minimal valid pod plus a tweak, run through every pod-carrying kind.
import { describe, expect, it } from 'vitest';
import type { FactGatherer } from '../../src/engine/facts.js';
import { engineWith } from './engine.js';
import { KINDS, objectOf, evaluateObject } from './pods.js';
import type { Json } from './pods.js';

export interface Fixture {
  readonly name: string;
  /** the pod spec, usually specWith(tweak) */
  readonly spec: Json;
  /** policy parameters for this case */
  readonly params?: Record<string, unknown>;
  /** sites expected to be reported, as "containers[0]" or "pod" (fail fixtures) */
  readonly sites?: readonly string[];
  readonly facts?: FactGatherer;
  /** run only on Pods (e.g. windows pods, ephemeral containers) */
  readonly podOnly?: boolean;
  /** kinds this case does not apply to (e.g. Job and CronJob for long-running rules) */
  readonly skipKinds?: readonly string[];
}

const skip = (f: Fixture, kind: string): boolean => (f.podOnly === true && kind !== 'Pod') || (f.skipKinds?.includes(kind) ?? false);

export interface PolicyFixtures {
  readonly pass: readonly Fixture[];
  readonly fail: readonly Fixture[];
}

const LINE = /^\[[a-z0-9-]+\] (container "[^"]*" \((containers|initContainers|ephemeralContainers)\[\d+\]\)|pod): .+ — .+$/;

// Runs pass and fail fixtures for one policy with only that policy enabled.
export function runFixtures(policyId: string, fixtures: PolicyFixtures): void {
  for (const kind of KINDS) {
    describe(`${policyId} on ${kind.kind}`, () => {
      for (const f of fixtures.pass) {
        if (skip(f, kind.kind)) continue;
        it(`allows: ${f.name}`, async () => {
          const engine = engineWith({ [policyId]: f.params ?? {} }, f.facts ? { facts: f.facts } : {});
          const decision = await evaluateObject(engine, objectOf(kind, f.spec));
          expect(decision.violations.map((v) => v.message)).toEqual([]);
          expect(decision.allowed).toBe(true);
        });
      }
      for (const f of fixtures.fail) {
        if (skip(f, kind.kind)) continue;
        it(`denies: ${f.name}`, async () => {
          const engine = engineWith({ [policyId]: f.params ?? {} }, f.facts ? { facts: f.facts } : {});
          const decision = await evaluateObject(engine, objectOf(kind, f.spec));
          expect(decision.allowed).toBe(false);
          expect(decision.violations.length).toBeGreaterThan(0);
          for (const v of decision.violations) {
            expect(v.policy).toBe(policyId);
            expect(v.effect).toBe('deny');
            expect(v.message).toMatch(LINE);
          }
          if (f.sites) {
            const sites = decision.violations.map((v) => (v.container ? `${v.container.list}[${v.container.index}]` : 'pod'));
            expect([...new Set(sites)].sort()).toEqual([...f.sites].sort());
          }
          expect(decision.message?.split('\n')).toEqual(decision.violations.map((v) => v.message));
        });
      }
    });
  }
}

// Runs named fail fixtures on a Pod and asserts the typed code each is denied with.
export function runFixtureCodes(policyId: string, fixtures: PolicyFixtures, codes: Readonly<Record<string, string>>): void {
  describe(`${policyId} codes`, () => {
    for (const [name, code] of Object.entries(codes)) {
      it(`denies "${name}" with ${code}`, async () => {
        const f = fixtures.fail.find((x) => x.name === name);
        if (!f) throw new Error(`no fail fixture named "${name}"`);
        const decision = await evaluateObject(engineWith({ [policyId]: f.params ?? {} }, f.facts ? { facts: f.facts } : {}), objectOf(KINDS[0] as (typeof KINDS)[number], f.spec));
        expect(decision.violations.map((v) => v.code)).toEqual([code]);
      });
    }
  });
}
