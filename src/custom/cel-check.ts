// Checks a parsed CEL expression before it is planned: every name it reads is declared, every function it calls
// exists with that many arguments and, where the argument types are known, with those types; its result has the
// expected type; its estimated cost fits the budget. Problems name the column.
import { CelScalar } from '@bufbuild/cel';
import type { CelEnv, CelFunc, CelType, parse } from '@bufbuild/cel';

type Parsed = ReturnType<typeof parse>;
type Expr = Parsed['expr'];

export interface CelProblem {
  readonly column: number;
  readonly reason: string;
}

/** Elements assumed in a list or map whose size is unknown, for the cost estimate. */
export const ASSUMED_LIST_SIZE = 100;
/** The estimated cost above which an expression is refused (Kubernetes' per-expression limit). */
export const COST_LIMIT = 1_000_000;

const TYPE_NAMES = new Set(['int', 'uint', 'double', 'string', 'bool', 'bytes', 'list', 'map', 'null_type', 'type', 'dyn', 'google']);
const { DYN } = CelScalar;
type Known = CelType | undefined;

interface Walk {
  readonly env: CelEnv;
  readonly parsed: Parsed;
  readonly problems: CelProblem[];
}

function column(w: Walk, e: Expr): number {
  const info = w.parsed.sourceInfo;
  const offset = info?.positions[String(e.id)] ?? 0;
  const lineStart = [0, ...(info?.lineOffsets ?? [])].filter((o) => o <= offset).pop() ?? 0;
  return offset - lineStart + 1;
}

const typeName = (t: Known): string => (t === undefined ? 'dyn' : t.toString());
const sameType = (a: CelType, b: CelType): boolean => a === DYN || b === DYN || a.toString() === b.toString() || (a.kind === b.kind && (a.kind === 'list' || a.kind === 'map'));

// The overloads of a function with this many arguments, with or without a target.
function overloads(w: Walk, name: string, hasTarget: boolean, argc: number): CelFunc[] {
  const group = w.env.funcs.find(name);
  return group ? [...group].filter((f) => (f.target !== undefined) === hasTarget && f.arguments.length === argc) : [];
}

// The result type of a call when its overloads agree on one, after checking that one can match the known types.
function checkCall(w: Walk, e: Expr, name: string, target: Known | 'none', args: Known[]): Known {
  const hasTarget = target !== 'none';
  const candidates = overloads(w, name, hasTarget, args.length);
  if (candidates.length === 0) {
    if (name.startsWith('_') || name.startsWith('@') || name === 'size' || name === 'in') return undefined;
    w.problems.push({ column: column(w, e), reason: `undeclared function ${hasTarget ? '.' : ''}${name}() with ${args.length} argument(s)` });
    return undefined;
  }
  const fits = candidates.filter((f) => f.arguments.every((t, i) => args[i] === undefined || sameType(t, args[i]!)) && (!hasTarget || target === undefined || f.target === undefined || sameType(f.target, target)));
  if (fits.length === 0) {
    const applied = [...(hasTarget ? [typeName(target as Known)] : []), ...args.map(typeName)].join(', ');
    w.problems.push({ column: column(w, e), reason: `found no matching overload for '${name}' applied to (${applied})` });
    return undefined;
  }
  const results = new Set(fits.map((f) => f.result.toString()));
  return results.size === 1 ? fits[0]!.result : undefined;
}

const CONST_TYPES: Record<string, CelType> = {
  boolValue: CelScalar.BOOL, int64Value: CelScalar.INT, uint64Value: CelScalar.UINT, doubleValue: CelScalar.DOUBLE,
  stringValue: CelScalar.STRING, bytesValue: CelScalar.BYTES, nullValue: CelScalar.NULL,
};

// The type of an expression where it is known, recording problems; `scope` holds the comprehension variables.
function typeOf(w: Walk, e: Expr, scope: ReadonlySet<string>): Known {
  const k = e.exprKind;
  switch (k.case) {
    case 'constExpr':
      return CONST_TYPES[k.value.constantKind.case ?? ''];
    case 'identExpr':
      if (!scope.has(k.value.name) && w.env.variables.find(k.value.name) === undefined && !TYPE_NAMES.has(k.value.name)) {
        w.problems.push({ column: column(w, e), reason: `undeclared reference to '${k.value.name}' (in container '')` });
      }
      return undefined;
    case 'selectExpr':
      if (k.value.operand) typeOf(w, k.value.operand, scope);
      return k.value.testOnly ? CelScalar.BOOL : undefined;
    case 'callExpr': {
      const { target, function: name, args } = k.value;
      const namespaced = target?.exprKind.case === 'identExpr' && !scope.has(target.exprKind.value.name) && w.env.variables.find(target.exprKind.value.name) === undefined;
      if (namespaced && target?.exprKind.case === 'identExpr') return checkCall(w, e, `${target.exprKind.value.name}.${name}`, 'none', args.map((a) => typeOf(w, a, scope)));
      const t: Known | 'none' = target ? typeOf(w, target, scope) : 'none';
      return checkCall(w, e, name, t, args.map((a) => typeOf(w, a, scope)));
    }
    case 'listExpr':
      for (const el of k.value.elements) typeOf(w, el, scope);
      return CelScalar.DYN;
    case 'structExpr':
      for (const entry of k.value.entries) {
        if (entry.keyKind.case === 'mapKey') typeOf(w, entry.keyKind.value, scope);
        if (entry.value) typeOf(w, entry.value, scope);
      }
      return undefined;
    case 'comprehensionExpr': {
      const c = k.value;
      if (c.iterRange) typeOf(w, c.iterRange, scope);
      if (c.accuInit) typeOf(w, c.accuInit, scope);
      const inner = new Set([...scope, c.iterVar, c.accuVar]);
      if (c.loopCondition) typeOf(w, c.loopCondition, inner);
      if (c.loopStep) typeOf(w, c.loopStep, inner);
      return c.result ? typeOf(w, c.result, new Set([...scope, c.accuVar])) : undefined;
    }
    default:
      return undefined;
  }
}

// The estimated worst-case cost: one per node, a comprehension's body times the size of what it iterates.
export function estimateCost(e: Expr | undefined): number {
  if (!e) return 0;
  const k = e.exprKind;
  switch (k.case) {
    case 'selectExpr':
      return 1 + estimateCost(k.value.operand);
    case 'callExpr':
      return 1 + estimateCost(k.value.target) + k.value.args.reduce((s, a) => s + estimateCost(a), 0);
    case 'listExpr':
      return 1 + k.value.elements.reduce((s, a) => s + estimateCost(a), 0);
    case 'structExpr':
      return 1 + k.value.entries.reduce((s, en) => s + estimateCost(en.value) + (en.keyKind.case === 'mapKey' ? estimateCost(en.keyKind.value) : 0), 0);
    case 'comprehensionExpr': {
      const c = k.value;
      const range = c.iterRange?.exprKind.case === 'listExpr' ? c.iterRange.exprKind.value.elements.length : ASSUMED_LIST_SIZE;
      return estimateCost(c.iterRange) + estimateCost(c.accuInit) + range * (estimateCost(c.loopCondition) + estimateCost(c.loopStep)) + estimateCost(c.result);
    }
    default:
      return 1;
  }
}

// Every problem with this parsed expression, which must evaluate to `expected` (bool or string).
export function checkExpression(env: CelEnv, parsed: Parsed, expected: CelType): CelProblem[] {
  const w: Walk = { env, parsed, problems: [] };
  const result = typeOf(w, parsed.expr, new Set());
  if (result !== undefined && !sameType(result, expected)) {
    w.problems.push({ column: column(w, parsed.expr), reason: `expected a ${typeName(expected)} result, got ${typeName(result)}` });
  }
  const cost = estimateCost(parsed.expr);
  if (cost > COST_LIMIT) {
    w.problems.push({ column: 1, reason: `estimated cost ${cost} exceeds the limit ${COST_LIMIT} (lists of unknown size count as ${ASSUMED_LIST_SIZE} elements; nest fewer comprehensions)` });
  }
  return w.problems;
}
