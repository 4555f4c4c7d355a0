// The code generator answers what @bufbuild/cel's planner answers: the same value or the same error, on
// expressions covering every kind of node, over a pod with present, absent and null fields.
import { describe, expect, it } from 'vitest';
import { celEnv, CelScalar, isCelError, parse, plan } from '@bufbuild/cel';
import type { CelResult, CelValue } from '@bufbuild/cel';
import { CACHED_RE2, KUBERNETES_LIBRARY } from './cel-library.js';
import { compileExpression } from './cel-eval.js';
import { celValue } from './cel-values.js';
import { resetBudget } from './cel-budget.js';

const VARIABLES = ['pod', 'container', 'params'];
const env = celEnv({ variables: Object.fromEntries(VARIABLES.map((v) => [v, CelScalar.DYN])), funcs: [...KUBERNETES_LIBRARY], re2: CACHED_RE2 });

const POD = {
  hostNetwork: false,
  dnsPolicy: 'ClusterFirst',
  nodeSelector: null,
  containers: [
    { name: 'app', image: 'registry.example/app:1', ports: [{ containerPort: 8080 }, { containerPort: 70000, hostPort: 0 }], env: [{ name: 'A_1', value: 'x' }, { name: '1bad' }], resources: { limits: { memory: '8Gi', cpu: 0.5 } } },
    { name: 'Side', image: 'busybox', securityContext: { privileged: true, runAsUser: 0 } },
  ],
  volumes: [{ name: 'data', emptyDir: {} }, { name: 'host', hostPath: { path: '/' } }],
  gone: undefined,
};
const PARAMS = {
  allowed: ['ClusterFirst'], max: '4Gi', ports: [80, 443], n: 2, pattern: '^[a-z]+$', bad: '(',
  matrix: [[1, 2], [3], []], mixed: [1, 'a', null, { k: 1 }, [2], 2.5, true], small: 1023, edge: 1024, negative: -1, zero: -0, big: 2 ** 60,
};
const bindings = { pod: celValue(POD), container: celValue(POD.containers[0]), params: celValue(PARAMS) };

const EXPRESSIONS = [
  'has(pod.hostNetwork)', 'has(pod.hostAliases)', 'has(pod.nodeSelector)', '!has(pod.shareProcessNamespace) || !pod.shareProcessNamespace',
  'pod.hostNetwork', 'pod.hostAliases', 'pod.nodeSelector.zone', 'has(pod.nodeSelector.zone)', 'has(pod.hostAliases.x)',
  "pod.dnsPolicy in ['ClusterFirst', 'Default']", 'pod.dnsPolicy in params.allowed', "'memory' in container.resources.limits", "'gpu' in container.resources.limits",
  'size(pod.containers) <= 20', 'pod.containers.size()', "size('héllo')", 'size(container.resources.limits)', 'size(pod)',
  'pod.containers.all(c, !has(c.ports) || c.ports.all(p, p.containerPort > 0 && p.containerPort < 65536))',
  'pod.containers.exists(c, c.name == "app")', 'pod.containers.exists_one(c, has(c.securityContext))', 'pod.containers.map(c, c.name)',
  'pod.containers.filter(c, c.name.startsWith("S")).size() == 1', 'pod.containers.map(c, c.name) == ["app", "Side"]',
  'container.resources.limits.all(k, k != "")', 'pod.volumes.all(v, v.all(k, k == "name" || k in ["emptyDir"]))',
  "container.image.matches('^[a-z0-9.-]+(:[0-9]+)?/')", "container.env.all(e, e.name.matches('^[A-Za-z_][A-Za-z0-9_]*$'))", "container.image.matches('(')",
  "quantity(container.resources.limits.memory).isGreaterThan(quantity(params.max))", 'container.resources.limits.cpu == 0.5', 'container.ports[0].containerPort == 8080',
  'container.ports[1].hostPort == 0', 'container.ports[2]', 'container.ports[-1]', 'container.ports["x"]', 'container.resources.limits["memory"]', 'container.resources.limits[1]',
  'pod.containers[1].securityContext.runAsUser == 0', 'pod.containers[1].securityContext.privileged == true', 'pod.containers[0].securityContext.privileged == true',
  'size(container.name) <= 40 && container.name.lowerAscii() == container.name', 'pod.containers[1].name.lowerAscii() == pod.containers[1].name',
  'pod.nodeSelector.zone == "a" || true', 'true || pod.nodeSelector.zone == "a"', 'pod.nodeSelector.zone == "a" && false', 'pod.nodeSelector.zone == "a" && true',
  '1 == 1.0', '1 == 1u', '"a" == 1', '[1, 2] == [1, 2]', '{"a": 1} == {"a": 1}', '{"a": 1, "a": 2}', '{1: "x"}[1]', '{true: 1}[true]',
  'pod.hostNetwork ? "on" : "off"', 'params.n > 1 ? 1 : "x"', '1 ? 2 : 3', 'int("12") + params.n', 'string(params.n) + "s"', '2 / 0', '2.0 / 0.0 > 1.0',
  'type(params.n) == int', 'type(pod) == map', 'dyn(params.n) == 2', 'params.ports.sum() == 523', 'params.ports.isSorted()', '[3, 1].max()', '[].min()',
  "'a,b'.split(',') == ['a', 'b']", "['a', 'b'].join('-')", "'x'.replace('x', 'yy')", "'%s-%d'.format(['a', 1])", 'strings.quote("a")',
  "timestamp('2026-01-01T00:00:00Z') < timestamp('2026-01-02T00:00:00Z')", "timestamp('2026-01-01T00:00:00Z') + duration('24h') == timestamp('2026-01-02T00:00:00Z')",
  "url('https://example.com:8443/x').getHost()", 'pod.unknown.all(x, true)', 'pod.dnsPolicy.all(x, true)', '[1, 2, 3].all(x, x / (x - 2) > 0)', '[1, 2, 3].exists(x, x / (x - 2) > 0)',
  'pod.containers.all(pod, pod.name != "")', "size('a😀b') == 3", "'a😀b'.size()", "'MiXeD-ß'.lowerAscii()", "'MiXeD-ß'.upperAscii()", "'abc'.startsWith('ab') && 'abc'.endsWith('bc') && 'abc'.contains('b')",
  // paths of selections: absent, null, undefined, list and string steps; has() at every depth; map literals and views inside them
  'pod.nodeSelector.zone.x', 'has(pod.nodeSelector.zone.x)', 'pod.dnsPolicy.x', 'has(pod.dnsPolicy.x)', 'pod.containers.name', 'has(pod.containers.name)',
  'has(container.resources.limits.memory)', 'has(container.resources.limits.gpu)', 'has(container.resources.requests.memory)', 'container.resources.requests.memory',
  'has(pod.gone)', 'pod.gone', 'pod.gone.x', 'has(pod.gone.x)', 'has(pod.volumes[0].emptyDir)', 'has(pod.volumes[0].emptyDir.medium)', 'pod.volumes[1].hostPath.path == "/"',
  'has(pod.containers[1].securityContext.privileged)', 'pod.containers[1].securityContext.runAsUser.x', "{'a': {'b': 1}}.a.b", "has({'a': {'b': 1}}.a.b)", "has({'a': {'b': null}}.a.b)",
  "{'a': pod}.a.dnsPolicy", "has({'a': pod}.a.containers)", "{'a': pod}.a.nodeSelector.zone", "has({'a': null}.a.b)", "{'a': 1}.a.b", 'params.nothing.x', 'has(params.nothing.x)',
  // comprehensions whose steps keep no element (one shared element view) over lists of lists, objects and mixed values,
  // nested, next to those that keep their elements (map, filter)
  'params.matrix.all(r, r.all(v, v > 0))', 'params.matrix.exists(r, r.exists(v, v == 3))', 'params.matrix.exists_one(r, r.size() == 1)', 'params.matrix.exists_one(r, r.size() > 0)',
  'params.matrix.map(r, r)[0] == [1, 2]', 'params.matrix.filter(r, size(r) > 0)', 'params.matrix.map(r, r.map(v, v * 2))', 'pod.containers.map(c, c)[0].name == "app"',
  'pod.containers.filter(c, true)[0].name', 'pod.containers.exists(c, pod.containers.exists(d, d.name != c.name && c.name == "app"))',
  'pod.containers.all(c, c.ports.all(p, p.containerPort > 0))', 'pod.containers.exists(c, c.ports.all(p, p.containerPort > 0))', 'params.mixed.all(x, x != null)',
  'params.mixed.exists(x, type(x) == list && x[0] == 2)', 'params.mixed.exists_one(x, type(x) == map && x.k == 1)', 'params.mixed.all(x, x.k == 1)', 'pod.volumes.exists(v, has(v.hostPath) && v.hostPath.path == "/")',
  'pod.containers.all(c, has(c.securityContext) ? !c.securityContext.privileged : true)', '[pod, pod].all(p, p.dnsPolicy == "ClusterFirst")', '[1, [2], {"a": 3}].exists(x, x == 1)',
  // whole numbers around the shared small ints, and the quantity shortcuts on quantities, other maps and other types
  'params.small == 1023', 'params.edge == 1024', 'params.negative < 0', 'params.zero == 0', 'params.big > 1000000000000000000', 'size(params.matrix) == 3', 'size(params.matrix[2]) == 0',
  "quantity('1Gi').isLessThan(quantity('2Gi'))", "quantity('1Gi').compareTo(quantity('1024Mi'))", "quantity('2').compareTo(quantity('1'))", "quantity('500m').isGreaterThan(quantity('1'))",
  "quantity('bad')", 'quantity(1)', 'pod.isGreaterThan(pod)', "'a'.isGreaterThan(quantity('1'))", "quantity('1').isGreaterThan('a')", "quantity('1').compareTo(pod)",
  // a field against a whole-number constant, either side: JSON ints, doubles, strings, null, lists, absent fields, past 2^53
  'params.n == 2', '2 == params.n', 'params.n != 2', 'params.n < 3', '3 > params.n', 'params.n >= 2', 'params.n <= 1', '1 <= params.n', 'params.n == 2u', 'params.n == 2.0',
  'params.max == 1', 'params.max < 1', 'container.resources.limits.cpu > 0', 'container.resources.limits.cpu == 0', 'pod.hostNetwork == 0', 'pod.nodeSelector == 0', 'pod.nodeSelector < 0',
  'pod.containers == 1', 'pod.containers > 1', 'params.missing > 1', 'params.nothing.x == 1', 'pod.gone == 0', 'params.big == 1152921504606846976', 'params.big > 9007199254740991',
  'params.big < 9007199254740991', 'params.small < 1024', 'params.negative == -1', '-1 > params.negative', 'params.zero == 0', 'params.zero >= 0', 'pod.containers.all(c, c.ports.all(p, p.containerPort < 65536))',
  'pod.containers.exists(c, has(c.ports) && c.ports.exists(p, 70000 == p.containerPort))', "{'a': 1}.a == 1", '[{"a": 1}].all(m, m.a == 1)',
  // matches with constant and varying patterns, valid and not
  'container.image.matches(params.pattern)', "'abc'.matches(params.pattern)", 'container.image.matches(params.bad)', "params.n.matches('a')", "container.image.matches(1)",
  // && and || of two: deciding values over errors and non-bools, the first error otherwise
  'pod.nodeSelector.zone || pod.gone.x', 'pod.gone.x && pod.nodeSelector.zone', '1 || false', 'false || 1', '1 && false', 'true && "x"', '"x" && true', '1 || true',
  'false || false || true', 'true && true && 1', 'pod.hostNetwork || !pod.hostNetwork', "'ABC'.lowerAscii()", "'abc'.lowerAscii()", "'abc'.upperAscii()", "'ÀbÇ'.upperAscii()",
  "'abc'.startsWith(1)", 'size(1)', "'a' in ['b', 1, 'a']", "1 in ['1', 1.0]", "'x' in [[1], {'x': 1}]", "'Default' in params.allowed", "has(container.resources) && !has(pod.nodeSelector)", 'params.missing', 'bytes("a") == b"a"', '1u + 2u == 3u', 'null == pod.nodeSelector', '-params.n', '!pod.hostNetwork', '!params.n',
];

// The answer with errors reduced to their message, values to what toEqual compares.
function answer(run: () => CelResult): unknown {
  try {
    const v = run();
    return isCelError(v) ? { error: v.message } : { value: v };
  } catch (err) {
    return { threw: (err as Error).message };
  }
}

const same = plan(celEnv({ variables: { a: CelScalar.DYN, b: CelScalar.DYN } }), parse('a == b'));

describe('the CEL code generator', () => {
  for (const source of EXPRESSIONS) {
    it(source, () => {
      const parsed = parse(source);
      const compiled = compileExpression(env, parsed.expr!, VARIABLES, CACHED_RE2);
      expect(compiled.supported).toBe(true);
      resetBudget();
      const want = answer(() => plan(env, parsed)(bindings as never));
      resetBudget();
      const got = answer(() => (compiled.usesTime ? plan(env, parsed)(bindings as never) : compiled.evaluate(bindings)));
      if (want && typeof want === 'object' && 'value' in want && got && typeof got === 'object' && 'value' in got) {
        expect(same({ a: got.value as CelValue, b: want.value as CelValue })).toBe(true);
      } else expect(got).toEqual(want);
    });
  }

  it('leaves message literals and optional syntax to the planner', () => {
    for (const source of ['google.protobuf.Int64Value{value: 1} == 1', 'pod.?hostNetwork.orValue(false)', '[?pod.?x]']) {
      let supported = true;
      try {
        supported = compileExpression(env, parse(source).expr!, VARIABLES).supported;
      } catch {
        supported = false;
      }
      expect(supported, source).toBe(false);
    }
  });
});

describe('the generated code', () => {
  it('carries no text of the expression: quotes, backticks and comment marks in strings are values, not code', () => {
    const tricky = [
      `'"); globalThis.pwned = 1; ("' == container.name`,
      `{'a"]; globalThis.pwned = 1; //': 1}['a"]; globalThis.pwned = 1; //'] == 1`,
      "'`${globalThis.pwned = 1}`' + '*/ globalThis.pwned = 1 /*' == 'x'",
      `'\\n}; globalThis.pwned = 1; {' in params.allowed`,
    ];
    for (const source of tricky) {
      const parsed = parse(source);
      const compiled = compileExpression(env, parsed.expr!, VARIABLES, CACHED_RE2);
      resetBudget();
      const want = answer(() => plan(env, parsed)(bindings as never));
      resetBudget();
      expect(answer(() => compiled.evaluate(bindings)), source).toEqual(want);
    }
    expect((globalThis as { pwned?: unknown }).pwned).toBeUndefined();
  });

  it('compiles a chain of a thousand || operands (one nested block each)', () => {
    const source = [...Array.from({ length: 1000 }, () => 'pod.hostNetwork'), 'true'].join(' || ');
    const compiled = compileExpression(env, parse(source).expr!, VARIABLES, CACHED_RE2);
    resetBudget();
    expect(compiled.evaluate(bindings)).toBe(true);
  });
});
