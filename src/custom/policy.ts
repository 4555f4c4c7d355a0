// A custom policy declaration compiled into a Policy the engine runs like a built-in: every CEL expression is
// compiled once here; a rule that is false is a finding with its message; a rule that cannot be evaluated follows
// the policy's onError.
import { CelScalar, isCelMap } from '@bufbuild/cel';
import type { CelValue } from '@bufbuild/cel';
import type { CheckInput, ContainerSite, Finding, Policy } from '../engine/types.js';
import { podSpecPath } from '../workload/podspecs.js';
import { celTimestamp, compileCel, CelCompileError, CONTAINER_VARIABLES, POD_VARIABLES } from './cel-program.js';
import type { CelProgram } from './cel-program.js';
import { celImage, celValue, plainObject } from './cel-values.js';
import type { CustomPolicyDecl, CustomRuleDecl } from './types.js';
import { CustomPolicyError, provideCelCompiler } from './compiler.js';
import type { CustomPolicyProblem } from './compiler.js';

export interface CompiledRule {
  readonly decl: CustomRuleDecl;
  readonly expression: CelProgram;
  readonly message?: CelProgram;
}

/** A custom policy: a Policy plus its declaration and compiled rules (for `portcullis vap`). */
export interface CustomPolicy extends Policy {
  readonly custom: { readonly decl: CustomPolicyDecl; readonly rules: readonly CompiledRule[]; readonly containerRules: readonly CompiledRule[] };
}

function compileRules(decl: CustomPolicyDecl, key: 'validations' | 'containerValidations', problems: CustomPolicyProblem[]): CompiledRule[] {
  const variables = key === 'validations' ? POD_VARIABLES : CONTAINER_VARIABLES;
  return (decl[key] ?? []).flatMap((rule, i) => {
    const at = (field: string) => `/customPolicies/${decl.id}/${key}/${i}/${field}`;
    try {
      const expression = compileCel(rule.expression, variables, CelScalar.BOOL);
      const message = rule.messageExpression ? compileCel(rule.messageExpression, variables, CelScalar.STRING) : undefined;
      return [{ decl: rule, expression, ...(message ? { message } : {}) }];
    } catch (err) {
      if (!(err instanceof CelCompileError)) throw err;
      const field = (() => {
        try {
          compileCel(rule.expression, variables, CelScalar.BOOL);
          return 'messageExpression';
        } catch {
          return 'expression';
        }
      })();
      for (const p of err.problems) problems.push({ path: at(field), reason: `column ${p.column}: ${p.reason}` });
      return [];
    }
  });
}

/** One review's variables as CEL values, shared by every custom policy and container; `now` is the moment the
 *  first custom policy looked at the review (one instant for every rule of the review). */
interface Converted {
  readonly object: CelValue;
  readonly oldObject: CelValue;
  readonly request: CelValue;
  readonly pod: CelValue;
  readonly at: number;
  now?: CelValue;
  /** the containers read so far, per list (containers, initContainers, ephemeralContainers) */
  readonly containers: Partial<Record<string, CelValue[]>>;
}

// Where a review keeps its CEL variables: on the review object itself, under a symbol only this module knows, so
// they live exactly as long as the review (a WeakMap would cost the garbage collector an ephemeron per review).
const CONVERTED = Symbol('portcullis.celVariables');
type Carrier = { [CONVERTED]?: Converted };
// A review that takes no new properties keeps them here (the engine's pass over a review is synchronous).
let sealed: { readonly key: object; readonly converted: Converted } | undefined;

// The pod spec inside the object (the same CEL map view, not a second conversion).
function podIn(object: CelValue, path: readonly string[] | undefined): CelValue {
  let node: CelValue = object;
  for (const key of path ?? []) node = isCelMap(node) ? (node.get(key) ?? null) : null;
  return node;
}

// The `object`, `oldObject`, `request` and `pod` variables of this review.
function convertedOf(input: CheckInput<unknown>): Converted {
  const r = input.review;
  const key = r ?? input.pod;
  const known = (key as Carrier)[CONVERTED] ?? (sealed?.key === key ? sealed.converted : undefined);
  if (known) return known;
  const object = celValue(r ? r.object : { spec: input.pod.spec });
  const c: Converted = {
    object,
    oldObject: celValue(r?.oldObject ?? null),
    request: celValue(
      r
        ? { operation: r.operation, kind: { group: r.group, kind: r.kind }, namespace: r.namespace ?? '', subResource: r.subresource ?? '', dryRun: r.dryRun === true }
        : { operation: 'CREATE', kind: { group: '', kind: input.pod.kind }, namespace: '', subResource: '', dryRun: false },
    ),
    pod: podIn(object, r ? podSpecPath(r.group, r.kind) : ['spec']),
    at: Date.now(),
    containers: {},
  };
  // not enumerable: a copy of the review ({ ...review, object }) must not carry these variables along
  if (Object.isExtensible(key)) Object.defineProperty(key, CONVERTED, { value: c });
  else sealed = { key, converted: c };
  return c;
}

/** A policy's parameters as a CEL value, converted once per parameters object (a config reload brings a new one). */
type ParamsOf = (params: unknown) => CelValue;
function paramsMemo(): ParamsOf {
  let key: unknown;
  let value: CelValue = null;
  return (params) => {
    if (params !== key) {
      key = params;
      value = typeof params === 'object' && params !== null ? celValue(params) : null;
    }
    return value;
  };
}

// The `now` variable of this review, when the policy reads it.
function nowOf(c: Converted, readsNow: boolean): CelValue {
  return readsNow ? (c.now ??= celTimestamp(c.at)) : null;
}

type Bindings = Record<'object' | 'oldObject' | 'request' | 'params' | 'pod' | 'now' | 'container' | 'image', CelValue>;

// The variables of the rules being run: one object, refilled for every policy and container (rules run
// synchronously and keep nothing), so that evaluating a rule allocates no bindings.
const bindings: Bindings = { object: null, oldObject: null, request: null, params: null, pod: null, now: null, container: null, image: null };

function podBindings(input: CheckInput<unknown>, params: CelValue, readsNow: boolean): Bindings {
  return fillBindings(convertedOf(input), params, readsNow);
}

function fillBindings(c: Converted, params: CelValue, readsNow: boolean): Bindings {
  bindings.object = c.object;
  bindings.oldObject = c.oldObject;
  bindings.request = c.request;
  bindings.params = params;
  bindings.pod = c.pod;
  bindings.now = nowOf(c, readsNow);
  bindings.container = null;
  bindings.image = null;
  return bindings;
}

// The container of this site, as a view read once per review.
function containerOf(c: Converted, site: ContainerSite): CelValue {
  const views = (c.containers[site.list] ??= []);
  let view = views[site.index];
  if (view === undefined) {
    const list = plainObject(c.pod)?.[site.list];
    view = views[site.index] = Array.isArray(list) && site.index < list.length ? celValue(list[site.index]) : celValue(site.container);
  }
  return view;
}

function containerBindings(site: ContainerSite, input: CheckInput<unknown>, params: CelValue, image: boolean, readsNow: boolean): Bindings {
  const c = convertedOf(input);
  const b = fillBindings(c, params, readsNow);
  b.container = containerOf(c, site);
  b.image = image ? celImage(input.facts.image(site.container.image)) : null;
  return b;
}

// Runs a policy's rules with these bindings; a finding for every rule that is false or cannot be evaluated.
function runRules(decl: CustomPolicyDecl, rules: readonly CompiledRule[], bindings: Bindings, site?: ContainerSite): Finding[] | undefined {
  let found: Finding[] | undefined;
  for (const rule of rules) {
    const outcome = rule.expression.run(bindings);
    if (outcome.ok && outcome.value === true) continue;
    const at = site ? { container: site } : {};
    if (!outcome.ok || typeof outcome.value !== 'boolean') {
      if (decl.onError === 'allow') continue;
      const why = outcome.ok ? `expected a bool, got ${typeof outcome.value}` : outcome.error;
      (found ??= []).push({ ...at, problem: `rule "${rule.decl.expression}" could not be evaluated: ${why}`, fix: 'fix the object or the policy (onError: deny)' });
      continue;
    }
    const text = rule.message?.run(bindings);
    const problem = text?.ok && typeof text.value === 'string' ? text.value : (rule.decl.message ?? `failed rule: ${rule.decl.expression}`);
    (found ??= []).push({ ...at, problem, fix: rule.decl.fix ?? `see the policy ${decl.id}` });
  }
  return found;
}

/** Whether a rule reads `now` (the time of the review, which the API server's CEL does not offer). */
export function readsTime(rule: CompiledRule): boolean {
  return rule.expression.reads.has('now') || rule.message?.reads.has('now') === true;
}

const sentence = (title: string): string => `${title.charAt(0).toUpperCase()}${title.slice(1)}${title.endsWith('.') ? '' : '.'}`;

// Compiles a declaration into a Policy; throws CustomPolicyError naming every expression that does not compile.
export function compileCustomPolicy(decl: CustomPolicyDecl): CustomPolicy {
  const problems: CustomPolicyProblem[] = [];
  const rules = compileRules(decl, 'validations', problems);
  const containerRules = compileRules(decl, 'containerValidations', problems);
  if (problems.length > 0) throw new CustomPolicyError(problems);
  const image = decl.image === true;
  const params = decl.params ?? {};
  const readsNow = [...rules, ...containerRules].some((r) => readsTime(r));
  const paramsOf = paramsMemo();
  return {
    id: decl.id,
    title: decl.title,
    description: sentence(decl.description ?? decl.title),
    severity: decl.severity ?? 'medium',
    category: decl.category ?? 'Best Practices',
    defaultAction: decl.action ?? 'deny',
    facts: image && containerRules.length > 0 ? ['imageConfig'] : [],
    appliesToWindows: true,
    paramsSchema: Object.fromEntries(Object.keys(params).map((k) => [k, {}])),
    defaults: params,
    custom: { decl, rules, containerRules },
    ...(rules.length > 0 ? { check: (input: CheckInput<object>) => runRules(decl, rules, podBindings(input, paramsOf(input.params), readsNow)) ?? [] } : {}),
    ...(containerRules.length > 0 ? { checkContainer: (site: ContainerSite, input: CheckInput<object>) => runRules(decl, containerRules, containerBindings(site, input, paramsOf(input.params), image, readsNow), site) } : {}),
  };
}

provideCelCompiler(compileCustomPolicy);
