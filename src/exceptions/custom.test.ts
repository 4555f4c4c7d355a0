// PolicyExceptions naming custom policies: `custom:<id>`, checked against the config's custom policy ids.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { readException } from '../engine/exception-spec.js';
import { createEngine } from '../engine/evaluate.js';
import { configFromObject } from '../config/load.js';
import { customPolicyIds } from '../config/custom-settings.js';
import { createExceptionStore } from './store.js';
import { evaluateObject, KINDS, objectOf, specWith } from '../../test/helpers/pods.js';
import type { Json } from '../../test/helpers/pods.js';
import { POLICY_IDS } from '../../policies/index.js';

const DAY = 86_400_000;
const NOW = Date.now();
const exception = (policies: string[], name = 'big-batch'): Json => ({
  apiVersion: 'portcullis.dev/v1alpha1',
  kind: 'PolicyException',
  metadata: { name, namespace: 'portcullis' },
  spec: { policies, match: { namespaces: ['shop'], names: ['batch-*'] }, reason: 'nightly batch needs 12 replicas', expires: new Date(NOW + 30 * DAY).toISOString() },
});
const config = configFromObject({
  apiVersion: 'portcullis.dev/v1alpha1',
  kind: 'PortcullisConfig',
  policies: Object.fromEntries(POLICY_IDS.map((id) => [id, { action: 'off' }])),
  customPolicies: { policies: [{ id: 'no-host-aliases', title: 'No hostAliases', validations: [{ expression: '!has(pod.hostAliases)', message: 'sets hostAliases', fix: 'remove them' }] }] },
});

describe('exceptions for custom policies', () => {
  it('reads custom:<id> for a declared custom policy as that id, and refuses an undeclared or unprefixed one', () => {
    const opts = { policyIds: POLICY_IDS, customPolicyIds: ['no-host-aliases'], maxDurationMs: 90 * DAY, now: NOW };
    const ok = readException(exception(['custom:no-host-aliases', 'require-non-root-user']), opts);
    expect(ok.ok && ok.exception.policies).toEqual(['no-host-aliases', 'require-non-root-user']);
    const other = readException(exception(['custom:no-such']), opts);
    expect(other.ok ? [] : other.problems.map((p) => p.code)).toEqual(['UNKNOWN_POLICY']);
    const bare = readException(exception(['no-host-aliases']), opts);
    expect(bare.ok ? [] : bare.problems.map((p) => p.message)).toEqual(['spec.policies: expected "custom:no-host-aliases" for the custom policy, got "no-host-aliases"']);
  });

  it('the store holds one until the config is known, and reads it again when the custom ids change', () => {
    const store = createExceptionStore({ logger: pino({ level: 'silent' }), policyIds: POLICY_IDS });
    expect(store.upsert(exception(['custom:no-host-aliases']))).toEqual([]);
    expect(store.current()).toEqual([]);
    store.setCustomPolicyIds(['no-host-aliases']);
    expect(store.current().map((e) => e.policies)).toEqual([['no-host-aliases']]);
    store.setCustomPolicyIds([]);
    expect(store.current()).toEqual([]);
    store.setCustomPolicyIds(['no-host-aliases']);
    store.remove(exception([]));
    store.setCustomPolicyIds([]);
    store.setCustomPolicyIds(['no-host-aliases']);
    expect(store.current()).toEqual([]);
  });

  it('allows the custom policy violation it covers, not another workload', async () => {
    const store = createExceptionStore({ logger: pino({ level: 'silent' }), policyIds: POLICY_IDS });
    store.setCustomPolicyIds(customPolicyIds(config));
    store.upsert(exception(['custom:no-host-aliases']));
    const engine = createEngine({ config: () => config, exceptions: store });
    const aliased = (name: string) => objectOf(KINDS[0]!, specWith((s) => (s.hostAliases = [{ ip: '10.0.0.1', hostnames: ['db'] }])), name, 'shop');
    const covered = await evaluateObject(engine, aliased('batch-1'));
    expect(covered.allowed).toBe(true);
    expect(covered.exceptions?.map((u) => [u.exception, u.policy])).toEqual([['portcullis/big-batch', 'no-host-aliases']]);
    expect((await evaluateObject(engine, aliased('web-1'))).allowed).toBe(false);
  });
});
