// A custom policy that reads `now` cannot run inside the API server: portcullis vap lists it with the reason
// instead of rendering it; the same policy without `now` is rendered.
import { describe, expect, it } from 'vitest';
import { configFromObject } from '../config/load.js';
import { POLICY_IDS } from '../../policies/index.js';
import { failSafeYaml } from '../cli/vap.js';
import { renderFailSafe } from './vap.js';

function configWith(rule: Record<string, string>) {
  return configFromObject({
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'PortcullisConfig',
    policies: Object.fromEntries(POLICY_IDS.map((id) => [id, { action: 'off' }])),
    customPolicies: { policies: [{ id: 'fresh-expiry', title: 'Expiry in the future', validations: [{ message: 'expired', ...rule }] }] },
  });
}

const EXPIRES = "!has(object.metadata.annotations) || !('expires-at' in object.metadata.annotations)";

describe('fail-safe rules of custom policies', () => {
  it('lists a policy whose rule reads now as not expressible, with the reason', () => {
    const rendered = renderFailSafe(configWith({ expression: `${EXPIRES} || timestamp(object.metadata.annotations['expires-at']) > now` }));
    expect(rendered.documents).toEqual([]);
    expect(rendered.inexpressible).toEqual([{ policy: 'fresh-expiry', reason: expect.stringContaining('reads `now`') }]);
    expect(failSafeYaml(rendered)).toContain('#   fresh-expiry: reads `now`');
  });

  it('also when only the messageExpression reads it', () => {
    const rendered = renderFailSafe(configWith({ expression: 'true', messageExpression: "'checked at ' + string(now)" }));
    expect(rendered.inexpressible.map((i) => i.policy)).toEqual(['fresh-expiry']);
  });

  it('renders the policy when no rule reads now (a comprehension variable named now is not the variable)', () => {
    const rendered = renderFailSafe(configWith({ expression: `${EXPIRES} || [1].all(now, now > 0)` }));
    expect(rendered.inexpressible).toEqual([]);
    expect(rendered.documents.length).toBeGreaterThan(0);
  });
});
