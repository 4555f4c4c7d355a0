import { describe, expect, it } from 'vitest';
import { createEngine } from './evaluate.js';
import { CUSTOM_POLICY_PREFIX, readException } from './exception-spec.js';
import { POLICY_ID_PATTERN } from '../custom/schema.js';
import type { PolicyException } from './exception-spec.js';
import type { ExceptionUse } from './exceptions.js';
import { configWith } from '../../test/helpers/engine.js';
import { evaluateObject, KINDS, objectOf, specWith } from '../../test/helpers/pods.js';
import type { Json } from '../../test/helpers/pods.js';
import { POLICY_IDS } from '../../policies/index.js';

const POD = KINDS[0]!;
const DAY = 86_400_000;
const NOW = Date.parse('2026-12-01T00:00:00Z');
const config = configWith({ 'require-non-root-user': { action: 'deny' }, 'require-read-only-root-filesystem': { action: 'deny' } });

function exception(spec: Json, name = 'legacy-root'): Json {
  return {
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'PolicyException',
    metadata: { name, namespace: 'portcullis' },
    spec: { policies: ['require-non-root-user'], match: { namespaces: ['shop'], names: ['legacy-*'] }, reason: 'vendor image runs as root until 2.0', expires: new Date(NOW + 30 * DAY).toISOString(), ...spec },
  };
}

function read(obj: Json): PolicyException {
  const r = readException(obj, { policyIds: POLICY_IDS, maxDurationMs: 90 * DAY, now: NOW });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.exception;
}

function engineWith(exceptions: PolicyException[], clock: { now: number }, uses: ExceptionUse[] = []) {
  return createEngine({ config: () => config, exceptions: { current: () => exceptions, used: (u) => uses.push(...u) }, now: () => clock.now });
}

const root = (tweak: (s: Json) => void = () => undefined) =>
  specWith((s) => {
    s.containers[0].securityContext.runAsUser = 0;
    tweak(s);
  });

describe('exceptions in the engine', () => {
  it('allows the covered violation with a warning naming the exception, until it expires, then no longer', async () => {
    const clock = { now: NOW };
    const uses: ExceptionUse[] = [];
    const engine = engineWith([read(exception({}))], clock, uses);
    const pod = objectOf(POD, root(), 'legacy-api', 'shop');
    const d = await evaluateObject(engine, pod);
    expect(d.allowed).toBe(true);
    expect(d.exceptions?.map((u) => [u.exception, u.policy, u.container])).toEqual([['portcullis/legacy-root', 'require-non-root-user', 'app']]);
    expect(d.warnings.some((w) => w.startsWith('exception portcullis/legacy-root (until ') && w.includes('[require-non-root-user]'))).toBe(true);
    expect(d.auditAnnotations.exceptions).toBe('portcullis/legacy-root');
    expect(uses).toHaveLength(1);
    clock.now = NOW + 30 * DAY;
    const after = await evaluateObject(engine, pod);
    expect(after.allowed).toBe(false);
    expect(after.exceptions).toBeUndefined();
    expect(uses).toHaveLength(1);
  });

  it('warns when the exception expires within 7 days', async () => {
    const clock = { now: NOW + 25 * DAY };
    const d = await evaluateObject(engineWith([read(exception({}))], clock), objectOf(POD, root(), 'legacy-api', 'shop'));
    expect(d.allowed).toBe(true);
    expect(d.warnings.some((w) => w.startsWith('exception portcullis/legacy-root expires in 5 days'))).toBe(true);
    const early = await evaluateObject(engineWith([read(exception({}))], { now: NOW }), objectOf(POD, root(), 'legacy-api', 'shop'));
    expect(early.warnings.some((w) => w.includes('expires in'))).toBe(false);
  });

  it('still refuses what the exception does not cover: another policy, another container, another image', async () => {
    const clock = { now: NOW };
    const engine = engineWith([read(exception({ containers: ['app'], images: ['registry.example.com/team/**'] }))], clock);
    const otherPolicy = await evaluateObject(engine, objectOf(POD, root((s) => (s.containers[0].securityContext.readOnlyRootFilesystem = false)), 'legacy-api', 'shop'));
    expect(otherPolicy.allowed).toBe(false);
    expect(otherPolicy.violations.map((v) => v.policy)).toEqual(['require-read-only-root-filesystem']);
    expect(otherPolicy.exceptions?.map((u) => u.policy)).toEqual(['require-non-root-user']);
    const sidecar = root((s) => s.containers.push({ ...s.containers[0], name: 'sidecar' }));
    const otherContainer = await evaluateObject(engine, objectOf(POD, sidecar, 'legacy-api', 'shop'));
    expect(otherContainer.allowed).toBe(false);
    expect(otherContainer.violations.map((v) => v.container?.name)).toEqual(['sidecar']);
    const otherImage = await evaluateObject(engine, objectOf(POD, root((s) => (s.containers[0].image = 'docker.io/library/nginx:1.27')), 'legacy-api', 'shop'));
    expect(otherImage.allowed).toBe(false);
  });

  it('selects by namespace, kind, name glob (or generateName) and label selector', async () => {
    const clock = { now: NOW };
    const e = read(exception({ match: { namespaces: ['shop'], kinds: ['Pod'], names: ['legacy-*'], selector: { matchLabels: { team: 'shop' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['frontend'] }] } } }));
    const engine = engineWith([e], clock);
    const pod = (name: string, ns: string, labels: Json) => ({ ...objectOf(POD, root(), name, ns), metadata: { name, namespace: ns, labels } });
    expect((await evaluateObject(engine, pod('legacy-api', 'shop', { team: 'shop' }))).allowed).toBe(true);
    expect((await evaluateObject(engine, pod('legacy-api', 'other', { team: 'shop' }))).allowed).toBe(false);
    expect((await evaluateObject(engine, pod('api', 'shop', { team: 'shop' }))).allowed).toBe(false);
    expect((await evaluateObject(engine, pod('legacy-api', 'shop', { team: 'shop', tier: 'frontend' }))).allowed).toBe(false);
    expect((await evaluateObject(engine, pod('legacy-api', 'shop', {}))).allowed).toBe(false);
    const generated = { ...objectOf(POD, root(), '', 'shop'), metadata: { generateName: 'legacy-api-7d9f-', namespace: 'shop', labels: { team: 'shop' } } };
    expect((await evaluateObject(engine, generated)).allowed).toBe(true);
    const deployment = { ...objectOf(KINDS[3]!, root(), 'legacy-api', 'shop'), metadata: { name: 'legacy-api', namespace: 'shop', labels: { team: 'shop' } } };
    expect((await evaluateObject(engine, deployment)).allowed).toBe(false);
  });
});

describe('reading a PolicyException', () => {
  const codes = (spec: Json, extra: Json = {}) => {
    const r = readException({ ...exception(spec), ...extra }, { policyIds: POLICY_IDS, maxDurationMs: 90 * DAY, now: NOW });
    return r.ok ? [] : r.problems.map((p) => p.code);
  };

  it('accepts a complete exception', () => {
    expect(codes({})).toEqual([]);
  });

  it('refuses a missing reason or expiry, an expiry beyond the maximum, unknown policies and selectors of everything', () => {
    expect(codes({ reason: undefined })).toEqual(['MISSING_REASON']);
    expect(codes({ reason: '  ' })).toEqual(['MISSING_REASON']);
    expect(codes({ expires: undefined })).toEqual(['MISSING_EXPIRES']);
    expect(codes({ expires: 'next week' })).toEqual(['INVALID_EXPIRES']);
    expect(codes({ expires: new Date(NOW + 91 * DAY).toISOString() })).toEqual(['EXPIRES_TOO_LATE']);
    expect(codes({ policies: ['require-everything'] })).toEqual(['UNKNOWN_POLICY']);
    expect(codes({ policies: [] })).toEqual(['MISSING_POLICIES']);
    expect(codes({ match: { namespaces: ['shop'] } })).toEqual(['MATCHES_EVERYTHING']);
    expect(codes({ match: { namespaces: ['shop'], names: ['*'] } })).toEqual(['MATCHES_EVERYTHING']);
    expect(codes({ match: { namespaces: ['shop'], selector: {} } })).toEqual(['MATCHES_EVERYTHING']);
    expect(codes({ match: { namespaces: ['*'], names: ['legacy-*'] } })).toEqual(['MATCHES_EVERYTHING']);
    expect(codes({ match: { names: ['legacy-*'] } })).toEqual(['MISSING_NAMESPACES']);
    expect(codes({ images: ['**'] })).toEqual(['MATCHES_EVERYTHING']);
    expect(codes({ match: { namespaces: ['shop'], selector: { matchExpressions: [{ key: 'a', operator: 'Maybe' }] } } })).toEqual(['INVALID_FIELD']);
    expect(codes({}, { kind: 'ConfigMap' })).toEqual(['NOT_AN_EXCEPTION']);
  });

  it('an exception with any problem applies nowhere', async () => {
    const r = readException(exception({ policies: ['require-non-root-user', 'typo'] }), { policyIds: POLICY_IDS, maxDurationMs: 90 * DAY, now: NOW });
    expect(r.ok).toBe(false);
  });
});

describe('the PolicyException CRD', () => {
  it('lists exactly the built-in policy ids, and custom:<id> for custom policies (the schema refuses anything else)', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const crd = parse(readFileSync(new URL('../../deploy/crds/portcullis.dev_policyexceptions.yaml', import.meta.url), 'utf8'));
    const spec = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;
    expect(spec.properties.policies.items.anyOf).toEqual([{ enum: [...POLICY_IDS] }, { pattern: `^${CUSTOM_POLICY_PREFIX}${POLICY_ID_PATTERN.slice(1)}` }]);
    expect(spec.required).toEqual(expect.arrayContaining(['reason', 'expires', 'policies', 'match']));
  });
});
