// Compiles a parsed CEL expression into one JavaScript function: every node becomes straight-line code over local
// variables (no closure per node, no frame), so V8 optimizes each expression on its own. The code holds only
// generated names, numbers and JSON-quoted field names; every other value (constants, error messages, call sites)
// is an element of K, and run-time helpers are read from H (cel-runtime.ts, cel-calls.ts). Function calls go
// through the environment's overloads or a shortcut, and every call and comprehension step is charged to the
// evaluation's cost budget. The semantics (errors as values, field-not-found, has(), short-circuit && and ||)
// follow @bufbuild/cel's planner; what this does not cover (message literals, optional syntax) is reported so that
// the caller plans the expression with @bufbuild/cel.
import { CelScalar, celList, celMap, celUint, isCelError, listType, mapType } from '@bufbuild/cel';
import type { CelEnv, CelResult, CelValue, parse } from '@bufbuild/cel';
import { overloadCall, shortcutCall } from './cel-calls.js';
import type { Matchers } from './cel-calls.js';
import { err, RUNTIME, unresolved } from './cel-runtime.js';
import { ElementCursor } from './cel-values.js';


type Expr = NonNullable<ReturnType<typeof parse>['expr']>;

/** A compiled expression: the declared variables it reads, whether it handles protobuf values (time). */
export interface Compiled {
  readonly reads: ReadonlySet<string>;
  /** false when the expression uses something only @bufbuild/cel's planner runs */
  readonly supported: boolean;
  /** true when it may build timestamps or durations (these need @bufbuild/cel's evaluation context) */
  readonly usesTime: boolean;
  /** true when it has a comprehension (all, exists, exists_one, map, filter) */
  readonly iterates: boolean;
  evaluate(bindings: Readonly<Record<string, CelValue | undefined>>): CelResult;
}

const TYPE_IDENTS: Readonly<Record<string, CelValue>> = {
  int: CelScalar.INT, uint: CelScalar.UINT, double: CelScalar.DOUBLE, bool: CelScalar.BOOL, string: CelScalar.STRING, bytes: CelScalar.BYTES,
  list: listType(CelScalar.DYN), map: mapType(CelScalar.DYN, CelScalar.DYN), null_type: CelScalar.NULL, type: CelScalar.TYPE,
};
const TIME_FUNCTIONS = new Set(['timestamp', 'duration']);
const EMPTY_LIST = celList([]);
const EMPTY_MAP = celMap(new Map());

/** A name in scope: the local holding it, and the declared variable it is (undefined for a comprehension's). */
interface Bound {
  readonly local: string;
  readonly declared?: string;
}
type Scope = ReadonlyMap<string, Bound>;

interface Generator {
  readonly env: CelEnv;
  readonly matchers: Matchers | undefined;
  readonly reads: Set<string>;
  /** K: the values the code reads by index */
  readonly constants: unknown[];
  /** the constants that are not errors */
  readonly values: Set<string>;
  /** the locals the code declares */
  readonly locals: string[];
  supported: boolean;
  usesTime: boolean;
  iterates: boolean;
}

/** Code that leaves a node's value in a local (or names a constant). */
type Out = string[];

// A new local of the generated function.
function local(g: Generator): string {
  const name = `v${g.locals.length}`;
  g.locals.push(name);
  return name;
}

// The code naming a constant: K[i].
function konst(g: Generator, value: unknown): string {
  g.constants.push(value);
  const name = `K[${g.constants.length - 1}]`;
  if (!isCelError(value)) g.values.add(name);
  return name;
}

// Code run only when `value` (a local or constant) is not an error; `result` is the error otherwise. A constant
// that is not an error needs no test.
function unlessError(g: Generator, out: Out, value: string, result: string, then: (out: Out) => void): void {
  if (g.values.has(value)) return then(out);
  out.push(`if (H.isCelError(${value})) ${result} = ${value}; else {`);
  then(out);
  out.push('}');
}

// The constant value of a literal.
function constant(e: Expr & { exprKind: { case: 'constExpr' } }): CelValue {
  const c = e.exprKind.value.constantKind;
  switch (c.case) {
    case 'uint64Value':
      return celUint(c.value);
    case 'nullValue':
      return null;
    case 'stringValue':
    case 'bytesValue':
    case 'doubleValue':
    case 'boolValue':
    case 'int64Value':
      return c.value;
    default:
      throw new Error(`expected a constant, got ${c.case ?? 'none'}`);
  }
}

// The dotted name an expression spells (a.b.c), for namespaced functions such as strings.quote.
function qualifiedName(e: Expr): string | undefined {
  const k = e.exprKind;
  if (k.case === 'identExpr') return k.value.name;
  if (k.case !== 'selectExpr' || k.value.testOnly || !k.value.operand) return undefined;
  const parent = qualifiedName(k.value.operand);
  return parent === undefined ? undefined : `${parent}.${k.value.field}`;
}

// Generates the code of a node; returns the local (or constant) holding its value.
function emit(g: Generator, e: Expr, scope: Scope, out: Out): string {
  const id = Number(e.id);
  const k = e.exprKind;
  switch (k.case) {
    case 'constExpr':
      return konst(g, constant(e as Expr & { exprKind: { case: 'constExpr' } }));
    case 'identExpr':
      return ident(g, id, k.value.name, scope, out);
    case 'selectExpr':
      return select(g, e, k.value, scope, out);
    case 'callExpr':
      return call(g, id, k.value, scope, out);
    case 'listExpr':
      return listLiteral(g, k.value, scope, out);
    case 'structExpr':
      return mapLiteral(g, id, k.value, scope, out);
    case 'comprehensionExpr':
      return comprehension(g, id, k.value, scope, out);
    default:
      g.supported = false;
      return konst(g, err(id, 'invalid expression'));
  }
}

// Generates the nodes in order into `result`: each value, or the first error (later nodes then not evaluated).
function inOrder(g: Generator, nodes: readonly Expr[], scope: Scope, out: Out, result: string, then: (values: string[], out: Out) => void): void {
  const values: string[] = [];
  const step = (i: number, o: Out): void => {
    if (i === nodes.length) return then(values, o);
    const v = emit(g, nodes[i]!, scope, o);
    values.push(v);
    unlessError(g, o, v, result, (inner) => step(i + 1, inner));
  };
  step(0, out);
}

// The local of a name in scope, noting which declared variables the expression reads; undefined when not in scope.
function bound(g: Generator, name: string, scope: Scope): Bound | undefined {
  const b = scope.get(name);
  if (b?.declared !== undefined) g.reads.add(b.declared);
  if (b && name === 'now') g.usesTime = true;
  return b;
}

function ident(g: Generator, id: number, name: string, scope: Scope, out: Out): string {
  const b = bound(g, name, scope);
  if (b) {
    const r = local(g);
    out.push(`${r} = ${b.local} === undefined ? H.unresolved(${id}) : ${b.local};`);
    return r;
  }
  const type = TYPE_IDENTS[name];
  if (type !== undefined) return konst(g, type);
  g.supported = false;
  return konst(g, unresolved(id));
}

type Select = Extract<Expr['exprKind'], { case: 'selectExpr' }>['value'];

/** A run of field selections a.b.c, or has(a.b.c): what it selects from, and each field with the id of its node. */
interface Path {
  readonly operand: Expr;
  readonly fields: readonly string[];
  readonly ids: readonly number[];
  /** has(): the last field is tested, not read */
  readonly testOnly: boolean;
}

// The path an outermost selection ends: the selections nested in its operand, innermost first.
function pathOf(e: Expr, outer: Select): Path {
  const fields: string[] = [];
  const ids: number[] = [];
  let at: Expr = e;
  let sel: Select = outer;
  for (;;) {
    fields.push(sel.field);
    ids.push(Number(at.id));
    const operand = sel.operand;
    if (!operand) throw new Error('expected a select operand');
    const next = operand.exprKind;
    if (next.case !== 'selectExpr' || next.value.testOnly) return { operand, fields: fields.reverse(), ids: ids.reverse(), testOnly: outer.testOnly };
    at = operand;
    sel = next.value;
  }
}

// A path of selections in one piece of code: over the plain JSON behind a view, field by field, only the value it
// ends at becoming a CEL value; over other CEL values, by selectCel. The errors are the planner's (the first absent
// field, named by its own node).
function select(g: Generator, e: Expr, outer: Select, scope: Scope, out: Out): string {
  const path = pathOf(e, outer);
  const k = path.operand.exprKind;
  const b = k.case === 'identExpr' ? bound(g, k.value.name, scope) : undefined;
  const r = local(g);
  let obj: string;
  if (b) {
    // a variable's fields (the usual shape): read from its local
    obj = b.local;
    out.push(`if (${obj} === undefined) ${r} = H.unresolved(${Number(path.operand.id)}); else`);
  } else obj = emit(g, path.operand, scope, out);
  const plain = local(g);
  const cel = `H.selectCel(${obj}, ${konst(g, path.fields)}, ${konst(g, path.ids)}, ${String(path.testOnly)})`;
  out.push(`if (H.isCelError(${obj})) ${r} = ${obj}; else if ((${plain} = H.plainObject(${obj})) === undefined) ${r} = ${cel}; else {`);
  const n = path.testOnly ? path.fields.length - 1 : path.fields.length;
  for (let i = 0; i < n; i++) {
    const field = JSON.stringify(path.fields[i]!);
    const missing = konst(g, `field not found: ${path.fields[i]!}`);
    out.push(`if (!H.isJsonObject(${plain}) || !H.hasOwn(${plain}, ${field})) ${r} = H.err(${path.ids[i]!}, ${missing}); else { ${plain} = ${plain}[${field}];`);
  }
  const last = JSON.stringify(path.fields[n]);
  out.push(path.testOnly ? `${r} = H.isJsonObject(${plain}) && H.hasJsonField(${plain}, ${last});` : `${r} = H.celValue(${plain});`);
  out.push('}'.repeat(n + 1));
  return r;
}

type ListExpr = Extract<Expr['exprKind'], { case: 'listExpr' }>['value'];

function listLiteral(g: Generator, l: ListExpr, scope: Scope, out: Out): string {
  if (l.optionalIndices.length > 0) g.supported = false;
  if (l.elements.length === 0) return konst(g, EMPTY_LIST);
  if (l.elements.every((x) => x.exprKind.case === 'constExpr')) return konst(g, celList(l.elements.map((x) => constant(x as Expr & { exprKind: { case: 'constExpr' } }))));
  const r = local(g);
  inOrder(g, l.elements, scope, out, r, (values, o) => o.push(`${r} = H.celList([${values.join(', ')}]);`));
  return r;
}

type MapExpr = Extract<Expr['exprKind'], { case: 'structExpr' }>['value'];

function mapLiteral(g: Generator, id: number, m: MapExpr, scope: Scope, out: Out): string {
  if (m.messageName !== '') g.supported = false;
  const nodes: Expr[] = [];
  for (const entry of m.entries) {
    if (entry.optionalEntry || entry.keyKind.case !== 'mapKey' || !entry.value) {
      g.supported = false;
      continue;
    }
    nodes.push(entry.keyKind.value, entry.value);
  }
  if (nodes.length === 0) return konst(g, EMPTY_MAP);
  const r = local(g);
  const entries = local(g);
  const conflict = local(g);
  out.push(`${entries} = new Map(); ${conflict} = undefined;`);
  // each key (checked as a key) then its value, in order; a bad or repeated key stops the literal with its error
  const step = (i: number, o: Out): void => {
    if (i === nodes.length) return void o.push(`${r} = H.celMap(${entries});`);
    const key = local(g);
    const rawKey = emit(g, nodes[i]!, scope, o);
    o.push(`${key} = H.mapKey(${id}, ${rawKey});`);
    unlessError(g, o, key, r, (o2) => {
      const value = emit(g, nodes[i + 1]!, scope, o2);
      unlessError(g, o2, value, r, (o3) => {
        o3.push(`if ((${conflict} = H.addEntry(${id}, ${entries}, ${key}, ${value})) !== undefined) ${r} = ${conflict}; else {`);
        step(i + 2, o3);
        o3.push('}');
      });
    });
  };
  step(0, out);
  return r;
}

type Comprehension = Extract<Expr['exprKind'], { case: 'comprehensionExpr' }>['value'];

// A comprehension as a loop over its range, charging a unit per step; all, exists and exists_one (a bool or int
// accumulator) keep no element, so their elements may share one view (an ElementCursor).
function comprehension(g: Generator, id: number, x: Comprehension, scope: Scope, out: Out): string {
  if (!x.accuInit || !x.iterRange || !x.loopCondition || !x.loopStep || !x.result) throw new Error('expected a complete comprehension');
  g.iterates = true;
  if ((x as { iterVar2?: string }).iterVar2) g.supported = false;
  const first = x.accuInit.exprKind;
  const cursor = first.case === 'constExpr' && (first.value.constantKind.case === 'boolValue' || first.value.constantKind.case === 'int64Value') ? konst(g, new ElementCursor()) : undefined;
  const r = local(g);
  const [accu, iter, items, i, stop] = [local(g), local(g), local(g), local(g), local(g)];
  const plain = cursor ? local(g) : undefined;
  const withAccu = new Map(scope).set(x.accuVar, { local: accu });
  const withIter = new Map(withAccu).set(x.iterVar, { local: iter });
  const init = emit(g, x.accuInit, scope, out);
  unlessError(g, out, init, r, (o) => {
    const range = emit(g, x.iterRange!, scope, o);
    unlessError(g, o, range, r, (o2) => {
      // a plain array through the cursor, released after the loop (it outlives the review)
      o2.push(plain ? `${plain} = H.plainArray(${range}); ${items} = ${plain} !== undefined ? ${cursor}.over(${plain}) : H.itemsOf(${id}, ${range});` : `${items} = H.itemsOf(${id}, ${range});`);
      o2.push(`if (H.isCelError(${items})) ${r} = ${items}; else {`);
      o2.push(`${accu} = ${init}; ${stop} = false;`);
      o2.push(`${plain ? 'try { ' : ''}for (${i} = 0; ${i} < ${items}.size; ${i}++) { H.spend(1); ${iter} = ${items}.get(${i});`);
      const go = emit(g, x.loopCondition!, withIter, o2);
      o2.push(`if (H.isCelError(${go})) { ${r} = ${go}; ${stop} = true; break; } if (${go} !== true) break;`);
      const next = emit(g, x.loopStep!, withIter, o2);
      o2.push(`${accu} = ${next}; }${plain ? ` } finally { if (${plain} !== undefined) ${cursor}.release(); }` : ''}`);
      o2.push(`if (!${stop}) {`);
      const result = emit(g, x.result!, withAccu, o2);
      o2.push(`${r} = ${result}; } }`);
    });
  });
  return r;
}

type Call = Extract<Expr['exprKind'], { case: 'callExpr' }>['value'];

function call(g: Generator, id: number, x: Call, scope: Scope, out: Out): string {
  if (x.target) {
    const qualified = qualifiedName(x.target);
    const name = qualified === undefined ? undefined : `${qualified}.${x.function}`;
    if (name !== undefined && g.env.funcs.find(name)) return dispatch(g, id, name, undefined, x.args, scope, out);
  }
  const [a, b, c] = x.args;
  switch (x.function) {
    case '_[_]':
      return indexing(g, id, a!, b!, scope, out);
    case '_[?_]':
    case '_?._':
      g.supported = false;
      return konst(g, err(id, 'optional syntax is planned by @bufbuild/cel'));
    case '_?_:_':
      return conditional(g, id, a!, b!, c!, scope, out);
    case '_&&_':
      return logical(g, id, x.args, false, scope, out);
    case '_||_':
      return logical(g, id, x.args, true, scope, out);
    case '@not_strictly_false':
    case '__not_strictly_false__': {
      const r = local(g);
      const v = emit(g, a!, scope, out);
      out.push(`${r} = ${v} !== false;`);
      return r;
    }
    default:
      if (TIME_FUNCTIONS.has(x.function)) g.usesTime = true;
      return dispatch(g, id, x.function, x.target, x.args, scope, out);
  }
}

function indexing(g: Generator, id: number, obj: Expr, key: Expr, scope: Scope, out: Out): string {
  const r = local(g);
  inOrder(g, [obj, key], scope, out, r, ([o, k], then) => then.push(`${r} = H.index(${id}, ${o}, ${k});`));
  return r;
}

function conditional(g: Generator, id: number, cond: Expr, t: Expr, e: Expr, scope: Scope, out: Out): string {
  const r = local(g);
  const v = emit(g, cond, scope, out);
  out.push(`if (${v} === true) {`);
  const yes = emit(g, t, scope, out); // the branch's code goes inside the block, before its assignment
  out.push(`${r} = ${yes}; } else if (${v} === false) {`);
  const no = emit(g, e, scope, out);
  out.push(`${r} = ${no}; } else ${r} = H.isCelError(${v}) ? ${v} : H.notCondition(${id}, ${v});`);
  return r;
}

// && and || over their arguments: a deciding bool wins over errors; otherwise the first error.
function logical(g: Generator, id: number, args: readonly Expr[], decides: boolean, scope: Scope, out: Out): string {
  const r = local(g);
  if (args.length === 2) {
    // the parser's shape: both operands evaluated unless the first decides
    const x = emit(g, args[0]!, scope, out);
    out.push(`if (${x} === ${String(decides)}) ${r} = ${String(decides)}; else {`);
    const y = emit(g, args[1]!, scope, out);
    out.push(`if (${y} === ${String(decides)}) ${r} = ${String(decides)};`);
    out.push(`else if (typeof ${x} !== 'boolean') ${r} = H.notBool(${id}, ${x});`);
    out.push(`else ${r} = typeof ${y} === 'boolean' ? ${String(!decides)} : H.notBool(${id}, ${y}); }`);
    return r;
  }
  const firstError = local(g);
  out.push(`${firstError} = undefined; ${r} = undefined;`);
  for (const arg of args) {
    out.push(`if (${r} === undefined) {`);
    const v = emit(g, arg, scope, out);
    out.push(`if (typeof ${v} === 'boolean') { if (${v} === ${String(decides)}) ${r} = ${String(decides)}; } else if (${firstError} === undefined) ${firstError} = H.notBool(${id}, ${v}); }`);
  }
  out.push(`if (${r} === undefined) ${r} = ${firstError} ?? ${String(!decides)};`);
  return r;
}

// A function or method call: `!` in line, a shortcut for the calls most rules make, else the overloads; the
// receiver and the arguments evaluated in order, the first error returned.
function dispatch(g: Generator, id: number, name: string, target: Expr | undefined, args: readonly Expr[], scope: Scope, out: Out): string {
  const overload = overloadCall(g.env, id, name);
  if (!overload) return konst(g, err(id, `unbound function: ${name}`));
  const over = konst(g, overload);
  const r = local(g);
  if (name === '!_' && !target && args.length === 1) {
    // `!` in line (`!has(...)` is in most rules): a bool negated, an error passed on, anything else to the overloads
    const v = emit(g, args[0]!, scope, out);
    out.push(`if (typeof ${v} === 'boolean') { H.spend(1); ${r} = !${v}; } else ${r} = H.isCelError(${v}) ? ${v} : ${over}(undefined, [${v}]);`);
    return r;
  }
  const answer = shortcutCall(id, name, target !== undefined, args, overload, g.matchers);
  const nodes = target ? [target, ...args] : args;
  inOrder(g, nodes, scope, out, r, (values, o) => {
    const t = target ? values[0]! : 'undefined';
    const vals = target ? values.slice(1) : values;
    if (answer) o.push(`${r} = ${konst(g, answer)}(${t}, ${vals[0] ?? 'null'}, ${vals[1] ?? 'null'});`);
    else o.push(`${r} = ${over}(${t}, [${vals.join(', ')}]);`);
  });
  return r;
}

let compiledCount = 0;

// Compiles an expression over these declared variables (all of them dyn) into one function.
export function compileExpression(env: CelEnv, expr: Expr, declared: readonly string[], matchers?: Matchers): Compiled {
  const g: Generator = { env, matchers, reads: new Set(), constants: [], values: new Set(), locals: [], supported: true, usesTime: false, iterates: false };
  const scope: Scope = new Map(declared.map((name, i) => [name, { local: `b${i}`, declared: name }]));
  const out: Out = [];
  const result = emit(g, expr, scope, out);
  const loads = declared.map((name, i) => (g.reads.has(name) ? `const b${i} = b[${JSON.stringify(name)}];` : '')).join(' ');
  const locals = g.locals.length > 0 ? `let ${g.locals.join(', ')};` : '';
  // the count makes each function's source unique, so that V8 compiles (and optimizes) each one on its own
  const source = `"use strict"; return function celExpression(b) { ${loads} ${locals}\n${out.join('\n')}\nreturn ${result}; }; // #${++compiledCount}`;
  const evaluate = new Function('K', 'H', source)(g.constants, RUNTIME) as Compiled['evaluate'];
  return { reads: g.reads, supported: g.supported, usesTime: g.usesTime, iterates: g.iterates, evaluate };
}
