import { describe, expect, it } from 'vitest';
import { configFromObject, ConfigError } from '../config/load.js';
import { createEngine } from '../engine/evaluate.js';
import { POLICY_IDS } from '../../policies/index.js';
import { KINDS, objectOf, specWith, evaluateObject } from '../../test/helpers/pods.js';
import { factsFor, TEST_DIGEST } from '../../test/helpers/facts.js';
import type { FactGatherer } from '../engine/facts.js';
import { COST_BUDGET } from './cel-budget.js';

const EXAMPLES = 'examples/custom-policies/policies';
const off = Object.fromEntries(POLICY_IDS.map((id) => [id, { action: 'off' }]));

function configOf(customPolicies: Record<string, unknown>) {
  return configFromObject({ apiVersion: 'portcullis.dev/v1alpha1', kind: 'PortcullisConfig', policies: off, customPolicies });
}

function engineOf(customPolicies: Record<string, unknown>, facts?: FactGatherer) {
  const config = configOf(customPolicies);
  return createEngine({ config: () => config, ...(facts ? { facts } : {}) });
}

const pod = (tweak: (s: any) => void) => objectOf(KINDS[0]!, specWith(tweak));

function problemsOf(rule: Record<string, unknown>, extra: Record<string, unknown> = {}): Array<{ path: string; reason: string }> {
  try {
    configOf({ policies: [{ id: 'bad', title: 'Bad', validations: [rule], ...extra }] });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected the config to be refused');
}

describe('custom CEL policies', () => {
  it('denies with a message in the built-ins format, per kind', async () => {
    const engine = engineOf({ directories: [EXAMPLES] });
    for (const kind of KINDS) {
      const d = await evaluateObject(engine, objectOf(kind, specWith((s) => (s.hostAliases = [{ ip: '10.0.0.1', hostnames: ['db'] }]))));
      expect(d.allowed).toBe(false);
      expect(d.violations.find((v) => v.policy === 'disallow-host-aliases')?.message).toBe('[disallow-host-aliases] pod: sets hostAliases for 10.0.0.1 — remove spec.hostAliases and use a Service or DNS record');
    }
    expect((await evaluateObject(engine, pod(() => undefined))).violations).toEqual([]);
  });

  it('per-container rules name the container, with quantities and params', async () => {
    const engine = engineOf({ directories: [EXAMPLES] });
    const d = await evaluateObject(engine, pod((s) => (s.containers[0].resources = { limits: { memory: '8Gi' } })));
    expect(d.violations.map((v) => v.message)).toEqual([
      '[limit-container-memory] container "app" (containers[0]): memory limit 8Gi is above 4Gi — lower resources.limits.memory or split the workload',
    ]);
    const ok = await evaluateObject(engine, pod((s) => (s.containers[0].resources = { limits: { memory: '4096Mi' } })));
    expect(ok.allowed).toBe(true);
  });

  it('reads the object and request: Jobs need ttlSecondsAfterFinished (ints are CEL ints)', async () => {
    const engine = engineOf({ directories: [EXAMPLES] });
    const job = KINDS.find((k) => k.kind === 'Job')!;
    const bare = await evaluateObject(engine, objectOf(job, specWith(() => undefined)));
    expect(bare.message).toBe('[require-job-ttl] pod: the Job sets no ttlSecondsAfterFinished — set spec.ttlSecondsAfterFinished (at most maxTtlSeconds)');
    const withTtl = (ttl: number) => {
      const o = objectOf(job, specWith(() => undefined));
      o.spec.ttlSecondsAfterFinished = ttl;
      return o;
    };
    expect((await evaluateObject(engine, withTtl(100000))).message).toContain('ttlSecondsAfterFinished 100000 is above 86400');
    expect((await evaluateObject(engine, withTtl(600))).allowed).toBe(true);
  });

  it('per-container rules read image facts when the policy asks for them', async () => {
    const facts = factsFor((ref) => ({ status: 'ok', digest: TEST_DIGEST, user: '1000', platform: 'linux/amd64', env: [], labels: ref.includes('good') ? { team: 'a' } : ({} as Record<string, string>) }));
    const engine = engineOf({ directories: [EXAMPLES] }, facts);
    const d = await evaluateObject(engine, pod((s) => (s.containers[0].image = 'registry.example/bad:1')));
    expect(d.allowed).toBe(true);
    expect(d.warnings).toEqual(['[require-team-label] container "app" (containers[0]): image registry.example/bad:1 has no team label — add LABEL team=<name> to the image\'s Dockerfile']);
    expect((await evaluateObject(engine, pod((s) => (s.containers[0].image = 'registry.example/good:1')))).warnings).toEqual([]);
  });

  it('honours exclude.images and action off', async () => {
    const rule = { expression: 'container.name != "app"', message: 'is called app', fix: 'rename it' };
    const excluded = engineOf({ policies: [{ id: 'no-app', title: 'No app', exclude: { images: ['nginx*'] }, containerValidations: [rule] }] });
    expect((await evaluateObject(excluded, pod((s) => (s.containers[0].image = 'nginx:1.27')))).allowed).toBe(true);
    expect((await evaluateObject(excluded, pod((s) => (s.containers[0].image = 'redis:7')))).allowed).toBe(false);
    const disabled = engineOf({ policies: [{ id: 'no-app', title: 'No app', action: 'off', containerValidations: [rule] }] });
    expect((await evaluateObject(disabled, pod(() => undefined))).allowed).toBe(true);
  });

  it('an absent field follows onError: deny names the error, allow lets it pass; never throws', async () => {
    const rule = { expression: 'pod.nodeSelector.zone == "a"', message: 'wrong zone', fix: 'set zone a' };
    const deny = engineOf({ policies: [{ id: 'zone', title: 'Zone', validations: [rule] }] });
    const d = await evaluateObject(deny, pod(() => undefined));
    expect(d.allowed).toBe(false);
    expect(d.message).toBe('[zone] pod: rule "pod.nodeSelector.zone == "a"" could not be evaluated: field not found: nodeSelector — fix the object or the policy (onError: deny)');
    const allow = engineOf({ policies: [{ id: 'zone', title: 'Zone', onError: 'allow', validations: [rule] }] });
    expect((await evaluateObject(allow, pod(() => undefined))).allowed).toBe(true);
  });

  it('an expression that allocates without bound is stopped by the budget (onError)', async () => {
    const rule = { expression: "[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, size('x' + pod.containers[0].image + string(a) + string(b) + string(c) + string(d)) < 100000))))", message: 'm', fix: 'f' };
    const cheap = engineOf({ policies: [{ id: 'budget', title: 'Budget', validations: [{ ...rule, expression: 'size(pod.containers.map(c, c.name + c.name)) > 0' }] }] });
    expect((await evaluateObject(cheap, pod(() => undefined))).allowed).toBe(true);
    const engine = engineOf({ policies: [{ id: 'budget', title: 'Budget', validations: [{ ...rule, expression: rule.expression.replace('< 100000', '< 100000 && size(pod.containers[0].image + pod.containers[0].image) > 0') }] }] });
    const long = pod((s) => (s.containers[0].image = `${'r'.repeat(400)}/app:1`));
    const d = await evaluateObject(engine, long);
    expect(d.allowed).toBe(false);
    expect(d.message).toContain('allocation budget');
  });

  it('nested comprehensions over a big list in the object stop at the cost budget (onError), even under ||', async () => {
    const big = pod((s) => (s.containers[0].env = Array.from({ length: 3000 }, (_, i) => ({ name: `V${i}`, value: 'x' }))));
    const expression = 'container.env.all(a, container.env.all(b, a.name != b.name || a.value == b.value)) || true';
    const deny = engineOf({ policies: [{ id: 'cost', title: 'Cost', containerValidations: [{ expression, message: 'm', fix: 'f' }] }] });
    const d = await evaluateObject(deny, big);
    expect(d.allowed).toBe(false);
    expect(d.message).toContain(`exceeded its cost budget (${COST_BUDGET} function calls and comprehension steps)`);
    const allow = engineOf({ policies: [{ id: 'cost', title: 'Cost', onError: 'allow', containerValidations: [{ expression, message: 'm', fix: 'f' }] }] });
    expect((await evaluateObject(allow, big)).allowed).toBe(true);
    expect((await evaluateObject(deny, pod(() => undefined))).allowed).toBe(true);
  });

  it('an expression that builds a huge string stops at the allocation budget before building it (onError)', async () => {
    const long = pod((s) => (s.containers[0].image = `${'a'.repeat(5000)}:1`));
    const expression = "size(container.image.replace('a', container.image.replace('a', container.image))) > 0";
    const engine = engineOf({ policies: [{ id: 'grow', title: 'Grow', containerValidations: [{ expression, message: 'm', fix: 'f' }] }] });
    const d = await evaluateObject(engine, long);
    expect(d.allowed).toBe(false);
    expect(d.message).toContain('allocation budget');
    expect((await evaluateObject(engine, pod(() => undefined))).allowed).toBe(true);
  });

  it('now is the time of the review: an expires-at annotation must be in the future', async () => {
    const expression = "!has(object.metadata.annotations) || !('expires-at' in object.metadata.annotations) || timestamp(object.metadata.annotations['expires-at']) > now";
    const engine = engineOf({ policies: [{ id: 'not-expired', title: 'Not expired', validations: [{ expression, messageExpression: "'expired at ' + object.metadata.annotations['expires-at']", fix: 'renew it' }] }] });
    const expiring = (at: string) => ({ ...pod(() => undefined), metadata: { name: 'p', namespace: 'default', annotations: { 'expires-at': at } } });
    expect((await evaluateObject(engine, expiring('2000-01-01T00:00:00Z'))).message).toBe('[not-expired] pod: expired at 2000-01-01T00:00:00Z — renew it');
    expect((await evaluateObject(engine, expiring(new Date(Date.now() + 3_600_000).toISOString()))).allowed).toBe(true);
    expect((await evaluateObject(engine, pod(() => undefined))).allowed).toBe(true);
  });

  it('now is one instant for every rule and container of a review', async () => {
    const rule = { expression: 'false', messageExpression: 'string(now)', fix: 'f' };
    const engine = engineOf({ policies: [{ id: 'clock-a', title: 'A', validations: [rule] }, { id: 'clock-b', title: 'B', containerValidations: [rule, rule] }] });
    const before = Date.now();
    const d = await evaluateObject(engine, pod((s) => s.containers.push({ ...s.containers[0], name: 'second' })));
    const times = d.violations.map((v) => v.message.replace(/^.*: (\S+) — f$/, '$1'));
    expect(times.length).toBe(5);
    expect(new Set(times).size).toBe(1);
    const at = Date.parse(times[0]!);
    expect(at).toBeGreaterThanOrEqual(before - 1);
    expect(at).toBeLessThanOrEqual(Date.now());
  });

  it('runs message literals on the planner, and refuses them next to a comprehension (unbounded cost)', async () => {
    const expression = 'google.protobuf.Int64Value{value: 7} == 7 && pod.containers[0].name == "app"';
    const engine = engineOf({ policies: [{ id: 'literal', title: 'Literal', validations: [{ expression, message: 'm', fix: 'f' }] }] });
    expect((await evaluateObject(engine, pod(() => undefined))).allowed).toBe(true);
    expect((await evaluateObject(engine, pod((s) => (s.containers[0].name = 'other')))).allowed).toBe(false);
    const [p] = problemsOf({ expression: `${expression} && pod.containers.all(c, c.name != "")` });
    expect(p?.reason).toMatch(/run-time cost could not be bounded/);
  });

  it('refuses at load an expression that does not parse, naming policy, rule and column', () => {
    const [p] = problemsOf({ expression: 'pod.containers.all(c, c.name ==)' });
    expect(p?.path).toBe('/customPolicies/bad/validations/0/expression');
    expect(p?.reason).toMatch(/^column \d+: syntax error/);
  });

  it('refuses undeclared variables, unknown functions, type errors and non-bool rules', () => {
    expect(problemsOf({ expression: 'spec.hostNetwork' })[0]?.reason).toBe("column 1: undeclared reference to 'spec' (in container '')");
    expect(problemsOf({ expression: 'pod.containers.exists(c, c.name.shout())' })[0]?.reason).toMatch(/column \d+: undeclared function \.shout\(\)/);
    expect(problemsOf({ expression: '1 + "a" == 2' })[0]?.reason).toMatch(/no matching overload for '_\+_' applied to \(int, string\)/);
    expect(problemsOf({ expression: '"a" + "b"' })[0]?.reason).toBe('column 4: expected a bool result, got string');
    expect(problemsOf({ expression: 'true', messageExpression: '1 + 1' })[0]).toEqual({ path: '/customPolicies/bad/validations/0/messageExpression', reason: 'column 2: expected a string result, got int' });
  });

  it('refuses an expression whose estimated cost is too high (three nested comprehensions over the object)', () => {
    const [p] = problemsOf({ expression: 'pod.containers.all(a, pod.containers.all(b, pod.containers.all(c, a.name != "" && b.name != "" && c.name != "")))' });
    expect(p?.reason).toMatch(/estimated cost \d+ exceeds the limit 1000000/);
  });

  it('refuses a custom id that a built-in has, and a bad declaration', () => {
    expect(() => configOf({ policies: [{ id: 'disallow-privileged', title: 'x', validations: [{ expression: 'true' }] }] })).toThrow(/expected an id no built-in policy has, got "disallow-privileged"/);
    expect(() => configOf({ policies: [{ id: 'x', title: 'x' }] })).toThrow(ConfigError);
  });

  it('offers the Kubernetes CEL library: regex, url, lists, time and duration', async () => {
    const exprs = [
      "'abc123'.find('[0-9]+') == '123'",
      "'a1b2'.findAll('[0-9]') == ['1', '2']",
      "url('https://example.com:8443/x').getHost() == 'example.com:8443'",
      "isURL('https://example.com') && !isURL('not a url')",
      '[1, 2, 3].isSorted() && [3, 1].sum() == 4 && [3, 1].min() == 1 && [1, 2].indexOf(2) == 1',
      "timestamp('2026-01-01T00:00:00Z') + duration('24h') == timestamp('2026-01-02T00:00:00Z')",
      "duration('1h') > duration('30m')",
      "pod.containers[0].name.matches('^ap+$')",
      "quantity('500m').isLessThan(quantity('1')) && quantity('1Ki').asInteger() == 1024",
    ];
    const engine = engineOf({ policies: exprs.map((expression, i) => ({ id: `lib-${i}`, title: 'Lib', validations: [{ expression, message: expression, fix: 'f' }] })) });
    const d = await evaluateObject(engine, pod(() => undefined));
    expect(d.violations.map((v) => v.message)).toEqual([]);
  });
});
