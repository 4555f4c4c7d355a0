// Fails when a registered policy has no folder with pass and fail fixtures and a test.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { POLICIES, validatePolicies } from '../src/engine/registry.js';
import type { Policy } from '../src/engine/types.js';

describe('policy registry', () => {
  for (const policy of POLICIES) {
    it(`${policy.id} has pass and fail fixtures and a test`, async () => {
      const dir = new URL(`./${policy.id}/`, import.meta.url);
      expect(existsSync(new URL('policy.test.ts', dir))).toBe(true);
      const { fixtures } = await import(`./${policy.id}/fixtures.ts`);
      expect(fixtures.pass.length).toBeGreaterThan(0);
      expect(fixtures.fail.length).toBeGreaterThan(0);
    });
  }

  it('rejects duplicate ids and parameters without defaults', () => {
    const base = POLICIES[0] as Policy;
    expect(() => validatePolicies([base, base])).toThrowError(expect.objectContaining({ code: 'POLICY_REGISTRY_INVALID' }));
    expect(() => validatePolicies([{ ...base, defaults: {} }])).toThrowError(expect.objectContaining({ code: 'POLICY_REGISTRY_INVALID' }));
    expect(() => validatePolicies([{ ...base, id: 'Bad Id' }])).toThrowError(expect.objectContaining({ code: 'POLICY_REGISTRY_INVALID' }));
  });

  it('keeps the public policy ids', () => {
    expect(POLICIES.map((p) => p.id).sort()).toEqual(
      ['disallow-latest-tag', 'require-drop-all-capabilities', 'require-non-root-user', 'require-provenance', 'require-read-only-root-filesystem', 'require-signed-images', 'require-vulnerability-scan'],
    );
  });
});
