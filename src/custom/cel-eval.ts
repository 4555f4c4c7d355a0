// Compiles a parsed CEL expression into a tree of closures: variables live in slots fixed at compile time,
// function calls go through the environment's overloads (remembering, per call site, the overload that matched),
// and every call and comprehension step is charged to the evaluation's cost budget. The semantics (errors as
// values, field-not-found, has(), short-circuit && and ||) follow @bufbuild/cel's planner; what this does not
// cover (message literals, optional syntax) is reported so that the caller plans the expression with @bufbuild/cel.
import { CelScalar, celError, celList, celMap, celType, celUint, isCelError, isCelList, isCelMap, isCelUint, listType, mapType } from '@bufbuild/cel';
import type { CelEnv, CelError, CelFunc, CelList, CelResult, CelValue, parse } from '@bufbuild/cel';
import { budgetExceeded, BudgetExceeded, charge, spend } from './cel-budget.js';

type Expr = NonNullable<ReturnType<typeof parse>['expr']>;
type Frame = Array<CelResult | undefined>;
type Node = (frame: Frame) => CelResult;

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

interface Compiler {
  readonly env: CelEnv;
  readonly matchers: Matchers | undefined;
  readonly declared: readonly string[];
  readonly reads: Set<string>;
  slots: number;
  supported: boolean;
  usesTime: boolean;
  iterates: boolean;
}

const err = (id: number, message: string): CelError => celError(message, id);
const unresolved = (id: number): CelError => err(id, 'unresolved attribute');

// A field of a map (what `obj.name` and `obj["name"]` read), undefined when absent.
function byName(obj: CelValue, name: string): CelValue | undefined {
  return isCelMap(obj) ? obj.get(name) : undefined;
}

// An element of a list or a map by a non-string key, undefined when absent.
function byIndex(obj: CelValue, key: bigint | number | boolean): CelValue | undefined {
  if (isCelMap(obj)) return obj.get(key);
  if (isCelList(obj)) return obj.get(Number(key));
  return undefined;
}

// obj[key], with @bufbuild/cel's errors for an absent field or index (a present null is a value).
function index(id: number, obj: CelValue, key: CelValue): CelResult {
  let v: CelValue | undefined;
  switch (typeof key) {
    case 'string':
      v = byName(obj, key);
      return v === undefined ? err(id, `field not found: ${key}`) : v;
    case 'boolean':
      v = byIndex(obj, key);
      return v === undefined ? err(id, `field not found: ${String(key)}`) : v;
    case 'number':
    case 'bigint':
      v = byIndex(obj, key);
      return v === undefined ? err(id, `index ${Number(key)} out of bounds [0, -1)`) : v;
    default:
      if (!isCelUint(key)) return err(id, 'unsupported key type');
      v = byIndex(obj, key.value);
      return v === undefined ? err(id, `index ${Number(key.value)} out of bounds [0, -1)`) : v;
  }
}

// A map literal's key: bool, int, uint or string (whole doubles become ints).
function mapKey(id: number, key: CelResult): CelResult {
  if (isCelError(key)) return key;
  if (typeof key === 'boolean' || typeof key === 'bigint' || typeof key === 'string' || isCelUint(key)) return key;
  if (typeof key === 'number' && Number.isInteger(key)) return BigInt(key);
  return err(id, 'unsupported key type');
}

// The dotted name an expression spells (a.b.c), for namespaced functions such as strings.quote.
function qualifiedName(e: Expr): string | undefined {
  const k = e.exprKind;
  if (k.case === 'identExpr') return k.value.name;
  if (k.case !== 'selectExpr' || k.value.testOnly || !k.value.operand) return undefined;
  const parent = qualifiedName(k.value.operand);
  return parent === undefined ? undefined : `${parent}.${k.value.field}`;
}

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

type Scope = ReadonlyMap<string, number>;

function node(c: Compiler, e: Expr, scope: Scope): Node {
  const id = Number(e.id);
  const k = e.exprKind;
  switch (k.case) {
    case 'constExpr': {
      const v = constant(e as Expr & { exprKind: { case: 'constExpr' } });
      return () => v;
    }
    case 'identExpr':
      return ident(c, id, k.value.name, scope);
    case 'selectExpr': {
      if (!k.value.operand) throw new Error('expected a select operand');
      const operand = node(c, k.value.operand, scope);
      const field = k.value.field;
      if (k.value.testOnly) {
        return (f) => {
          const obj = operand(f);
          return isCelError(obj) ? obj : isCelMap(obj) && obj.has(field);
        };
      }
      return (f) => {
        const obj = operand(f);
        if (isCelError(obj)) return obj;
        const v = byName(obj, field);
        return v === undefined ? err(id, `field not found: ${field}`) : v;
      };
    }
    case 'callExpr':
      return call(c, id, k.value, scope);
    case 'listExpr': {
      if (k.value.optionalIndices.length > 0) c.supported = false;
      const elems = k.value.elements.map((x) => node(c, x, scope));
      if (elems.length === 0) return () => EMPTY_LIST;
      if (k.value.elements.every((x) => x.exprKind.case === 'constExpr')) {
        const constant = celList(elems.map((el) => el([]) as CelValue));
        return () => constant;
      }
      return (f) => {
        const vals: CelValue[] = [];
        for (const el of elems) {
          const v = el(f);
          if (isCelError(v)) return v;
          vals.push(v);
        }
        return celList(vals);
      };
    }
    case 'structExpr':
      return mapLiteral(c, id, k.value, scope);
    case 'comprehensionExpr':
      return comprehension(c, id, k.value, scope);
    default:
      c.supported = false;
      return () => err(id, 'invalid expression');
  }
}

function ident(c: Compiler, id: number, name: string, scope: Scope): Node {
  const slot = scope.get(name);
  if (slot !== undefined) {
    if (slot < c.declared.length) c.reads.add(name);
    if (name === 'now') c.usesTime = true;
    return (f) => {
      const v = f[slot];
      return v === undefined ? unresolved(id) : v;
    };
  }
  const type = TYPE_IDENTS[name];
  if (type !== undefined) return () => type;
  c.supported = false;
  return () => unresolved(id);
}

type MapExpr = Extract<Expr['exprKind'], { case: 'structExpr' }>['value'];

function mapLiteral(c: Compiler, id: number, m: MapExpr, scope: Scope): Node {
  if (m.messageName !== '') c.supported = false;
  const keys: Node[] = [];
  const values: Node[] = [];
  for (const entry of m.entries) {
    if (entry.optionalEntry || entry.keyKind.case !== 'mapKey' || !entry.value) {
      c.supported = false;
      continue;
    }
    keys.push(node(c, entry.keyKind.value, scope));
    values.push(node(c, entry.value, scope));
  }
  if (keys.length === 0) return () => EMPTY_MAP;
  return (f) => {
    const entries = new Map<bigint | string | boolean | ReturnType<typeof celUint>, CelValue>();
    for (let i = 0; i < keys.length; i++) {
      const key = mapKey(id, keys[i]!(f));
      if (isCelError(key)) return key;
      const val = values[i]!(f);
      if (isCelError(val)) return val;
      if (entries.has(key as string)) return err(id, `map key conflict: ${String(key)}`);
      entries.set(key as string, val);
    }
    return celMap(entries);
  };
}

type Comprehension = Extract<Expr['exprKind'], { case: 'comprehensionExpr' }>['value'];

function comprehension(c: Compiler, id: number, x: Comprehension, scope: Scope): Node {
  if (!x.accuInit || !x.iterRange || !x.loopCondition || !x.loopStep || !x.result) throw new Error('expected a complete comprehension');
  c.iterates = true;
  if ((x as { iterVar2?: string }).iterVar2) c.supported = false;
  const accuInit = node(c, x.accuInit, scope);
  const iterRange = node(c, x.iterRange, scope);
  const accuSlot = c.slots++;
  const iterSlot = c.slots++;
  const withAccu = new Map(scope).set(x.accuVar, accuSlot);
  const withIter = new Map(withAccu).set(x.iterVar, iterSlot);
  const cond = node(c, x.loopCondition, withIter);
  const step = node(c, x.loopStep, withIter);
  const result = node(c, x.result, withAccu);
  return (f) => {
    const init = accuInit(f);
    if (isCelError(init)) return init;
    const range = iterRange(f);
    if (isCelError(range)) return range;
    let items: { readonly size: number; get(i: number): CelValue | undefined };
    if (isCelList(range)) items = range;
    else if (isCelMap(range)) {
      const keys = [...range.keys()] as CelValue[];
      items = { size: keys.length, get: (i) => keys[i] };
    } else return err(id, `type mismatch: iterable vs ${String(celType(range))}`);
    f[accuSlot] = init;
    for (let i = 0; i < items.size; i++) {
      spend(1);
      f[iterSlot] = items.get(i);
      const go = cond(f);
      if (isCelError(go)) return go;
      if (go !== true) break;
      f[accuSlot] = step(f);
    }
    return result(f);
  };
}

type Call = Extract<Expr['exprKind'], { case: 'callExpr' }>['value'];

function call(c: Compiler, id: number, x: Call, scope: Scope): Node {
  if (x.target) {
    const qualified = qualifiedName(x.target);
    const namespaced = qualified === undefined ? undefined : c.env.funcs.find(`${qualified}.${x.function}`);
    if (namespaced) return dispatch(c, id, `${qualified}.${x.function}`, undefined, x.args.map((a) => node(c, a, scope)));
  }
  const args = x.args.map((a) => node(c, a, scope));
  const target = x.target ? node(c, x.target, scope) : undefined;
  switch (x.function) {
    case '_[_]':
      return indexNode(id, args[0]!, args[1]!);
    case '_[?_]':
    case '_?._':
      c.supported = false;
      return () => err(id, 'optional syntax is planned by @bufbuild/cel');
    case '_?_:_':
      return conditional(id, args[0]!, args[1]!, args[2]!);
    case '_&&_':
      return logical(id, args, false);
    case '_||_':
      return logical(id, args, true);
    case '@not_strictly_false':
    case '__not_strictly_false__': {
      const arg = args[0]!;
      return (f) => arg(f) !== false;
    }
    default:
      if (TIME_FUNCTIONS.has(x.function)) c.usesTime = true;
      return dispatch(c, id, x.function, target, args);
  }
}

function indexNode(id: number, obj: Node, key: Node): Node {
  return (f) => {
    const o = obj(f);
    if (isCelError(o)) return o;
    const k = key(f);
    return isCelError(k) ? k : index(id, o, k);
  };
}

function conditional(id: number, cond: Node, t: Node, e: Node): Node {
  return (f) => {
    const v = cond(f);
    if (v === true) return t(f);
    if (v === false) return e(f);
    if (isCelError(v)) return v;
    return err(id, `found no matching overload for _?_:_ applied to '(${celType(v).name})'`);
  };
}

// && and || over their arguments: a deciding bool wins over errors; otherwise the first error.
function logical(id: number, args: readonly Node[], decides: boolean): Node {
  return (f) => {
    let first: CelError | undefined;
    for (const arg of args) {
      const v = arg(f);
      if (typeof v === 'boolean') {
        if (v === decides) return decides;
        continue;
      }
      first ??= isCelError(v) ? v : err(id, `type mismatch: expected bool, got ${String(celType(v))}`);
    }
    return first ?? !decides;
  };
}

// Whether an overload that matched once may be tried first next time: it must not match values of other types
// than an earlier overload could (a dyn parameter could take what an earlier, typed overload should).
function rememberable(funcs: readonly CelFunc[], fn: CelFunc): boolean {
  const dyn = fn.arguments.some((t) => t === CelScalar.DYN) || fn.target === CelScalar.DYN;
  return !dyn || funcs.find((g) => g.arguments.length === fn.arguments.length && (g.target === undefined) === (fn.target === undefined)) === fn;
}

/** A shortcut for a call on the values it is most often given: the receiver (undefined for a function) and up to
 *  two arguments; undefined leaves the call to the overloads. */
type Shortcut = (t: CelValue | undefined, a: CelValue, b: CelValue) => CelValue | undefined;

const same = (a: CelValue, b: CelValue): boolean => typeof a === typeof b && (typeof a === 'string' || typeof a === 'bigint' || typeof a === 'boolean');
const ordered = (a: CelValue, b: CelValue): boolean => typeof a === typeof b && (typeof a === 'string' || typeof a === 'bigint');

// The number of code points in s (what size() counts: a surrogate pair is one).
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

// Whether the string is an element of the list (a string equals only the same string).
function inList(s: string, list: CelList): boolean {
  for (let i = 0; i < list.size; i++) if (list.get(i) === s) return true;
  return false;
}

const size: Shortcut = (t) => (typeof t === 'string' ? BigInt(codePoints(t)) : isCelList(t) || isCelMap(t) ? BigInt(t.size) : undefined);

// What the standard overloads (@bufbuild/cel's std/logic and strings extension) answer for these value types;
// keyed by name, "." for a method, and the number of arguments.
const SHORTCUTS: Readonly<Record<string, Shortcut>> = {
  '_==_/2': (_, a, b) => (same(a, b) ? a === b : undefined),
  '_!=_/2': (_, a, b) => (same(a, b) ? a !== b : undefined),
  '_<_/2': (_, a, b) => (ordered(a, b) ? (a as string) < (b as string) : undefined),
  '_<=_/2': (_, a, b) => (ordered(a, b) ? (a as string) <= (b as string) : undefined),
  '_>_/2': (_, a, b) => (ordered(a, b) ? (a as string) > (b as string) : undefined),
  '_>=_/2': (_, a, b) => (ordered(a, b) ? (a as string) >= (b as string) : undefined),
  '@in/2': (_, a, b) => (typeof a !== 'string' ? undefined : isCelMap(b) ? b.has(a) : isCelList(b) ? inList(a, b) : undefined),
  '!_/1': (_, a) => (typeof a === 'boolean' ? !a : undefined),
  'size/1': (_, a) => size(a, null, null),
  '.size/0': size,
  '.startsWith/1': (t, a) => (typeof t === 'string' && typeof a === 'string' ? t.startsWith(a) : undefined),
  '.endsWith/1': (t, a) => (typeof t === 'string' && typeof a === 'string' ? t.endsWith(a) : undefined),
  '.contains/1': (t, a) => (typeof t === 'string' && typeof a === 'string' ? t.includes(a) : undefined),
  '.lowerAscii/0': (t) => (typeof t !== 'string' ? undefined : /[A-Z]/.test(t) ? t.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : t),
  '.upperAscii/0': (t) => (typeof t !== 'string' ? undefined : /[a-z]/.test(t) ? t.replace(/[a-z]+/g, (m) => m.toUpperCase()) : t),
};

/** How the environment runs `matches()` (its re2 option). */
export interface Matchers {
  compile(pattern: string): { test(s: string): boolean };
}

function dispatch(c: Compiler, id: number, name: string, target: Node | undefined, args: readonly Node[]): Node {
  const group = c.env.funcs.find(name);
  if (!group) return () => err(id, `unbound function: ${name}`);
  const funcs = [...group];
  let last: CelFunc | undefined;
  // The call through the overloads, the one that matched last time first.
  const overload = (t: CelValue | undefined, vals: CelValue[]): CelResult => {
    spend(1);
    let r = last?.call(id, t, vals);
    if (r === undefined) {
      for (const fn of funcs) {
        r = fn.call(id, t, vals);
        if (r === undefined) continue;
        if (rememberable(funcs, fn)) last = fn;
        break;
      }
    }
    if (typeof r === 'string') charge(r.length);
    const stopped = budgetExceeded();
    if (stopped !== undefined) throw new BudgetExceeded(stopped);
    if (r !== undefined) return r;
    const on = t !== undefined ? `${String(celType(t))}.` : '';
    return err(id, `found no matching overload for '${name}' applied to '${on}(${vals.map((v) => celType(v).name).join(', ')})'`);
  };
  const receiver: (f: Frame) => CelResult | undefined = target ?? (() => undefined);
  const shortcut = args.length <= 2 ? (name === 'matches' && target && c.matchers ? matches(c.matchers) : SHORTCUTS[`${target ? '.' : ''}${name}/${args.length}`]) : undefined;
  if (shortcut) {
    const [a, b] = args;
    return (f) => {
      const t = receiver(f);
      if (isCelError(t)) return t;
      const va = a ? a(f) : null;
      if (isCelError(va)) return va;
      const vb = b ? b(f) : null;
      if (isCelError(vb)) return vb;
      let r: CelValue | undefined;
      try {
        r = shortcut(t, va, vb);
      } catch (e) {
        return celError(e, id);
      }
      if (r === undefined) return overload(t, !a ? [] : !b ? [va] : [va, vb]);
      spend(1);
      if (typeof r === 'string') charge(r.length);
      return r;
    };
  }
  return (f) => {
    const t = receiver(f);
    if (isCelError(t)) return t;
    const vals: CelValue[] = new Array<CelValue>(args.length);
    for (let i = 0; i < args.length; i++) {
      const v = args[i]!(f);
      if (isCelError(v)) return v;
      vals[i] = v;
    }
    return overload(t, vals);
  };
}

// s.matches(re) with the environment's regex engine.
function matches(m: Matchers): Shortcut {
  return (t, a) => (typeof t === 'string' && typeof a === 'string' ? m.compile(a).test(t) : undefined);
}

// Compiles an expression over these declared variables (all of them dyn).
export function compileExpression(env: CelEnv, expr: Expr, declared: readonly string[], matchers?: Matchers): Compiled {
  const c: Compiler = { env, matchers, declared, reads: new Set(), slots: declared.length, supported: true, usesTime: false, iterates: false };
  const root = node(c, expr, new Map(declared.map((name, i) => [name, i])));
  const read = declared.map((name, i) => [name, i] as const).filter(([name]) => c.reads.has(name));
  const frame: Frame = new Array<CelResult | undefined>(c.slots).fill(undefined);
  return {
    reads: c.reads,
    supported: c.supported,
    usesTime: c.usesTime,
    iterates: c.iterates,
    // One frame per expression, reused: an evaluation cannot start another of the same expression.
    evaluate(bindings) {
      for (const [name, i] of read) frame[i] = bindings[name];
      return root(frame);
    },
  };
}
