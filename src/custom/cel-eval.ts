// Compiles a parsed CEL expression into a tree of closures: variables live in slots fixed at compile time,
// function calls go through the environment's overloads (remembering, per call site, the overload that matched),
// and every call and comprehension step is charged to the evaluation's cost budget. The semantics (errors as
// values, field-not-found, has(), short-circuit && and ||) follow @bufbuild/cel's planner; what this does not
// cover (message literals, optional syntax) is reported so that the caller plans the expression with @bufbuild/cel.
import { CelScalar, celError, celList, celMap, celType, celUint, isCelError, isCelList, isCelMap, isCelUint, listType, mapType } from '@bufbuild/cel';
import type { CelEnv, CelError, CelFunc, CelList, CelResult, CelValue, parse } from '@bufbuild/cel';
import { budgetExceeded, BudgetExceeded, charge, spend } from './cel-budget.js';
import { amount, parseQuantity, QUANTITY_COMPARISONS } from './cel-library.js';
import { celInt, celValue, ElementCursor, hasJsonField, isJsonObject, plainArray, plainObject } from './cel-values.js';

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
    case 'selectExpr':
      return select(c, e, k.value, scope);
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

// A path of selections, read in one node: over the plain JSON behind a view, only the value it ends at becomes a
// CEL value; the errors are the planner's (the first absent field, named by its own node).
function select(c: Compiler, e: Expr, outer: Select, scope: Scope): Node {
  const path = pathOf(e, outer);
  const k = path.operand.exprKind;
  const slot = k.case === 'identExpr' ? slotOf(c, k.value.name, scope) : undefined;
  if (slot !== undefined) {
    // a variable's fields (the usual shape): read from the frame without a node for the variable
    const id = Number(path.operand.id);
    return (f) => {
      const obj = f[slot];
      if (obj === undefined) return unresolved(id);
      if (isCelError(obj)) return obj;
      const plain = plainObject(obj);
      return plain !== undefined ? selectPlain(plain, path) : selectCel(obj, path);
    };
  }
  const operand = node(c, path.operand, scope);
  return (f) => {
    const obj = operand(f);
    if (isCelError(obj)) return obj;
    const plain = plainObject(obj);
    return plain !== undefined ? selectPlain(plain, path) : selectCel(obj, path);
  };
}

// The path over CEL values (maps of @bufbuild/cel, literals, views).
function selectCel(obj: CelValue, path: Path): CelResult {
  const { fields, ids } = path;
  const n = path.testOnly ? fields.length - 1 : fields.length;
  let v: CelValue = obj;
  for (let i = 0; i < n; i++) {
    const next = byName(v, fields[i]!);
    if (next === undefined) return err(ids[i]!, `field not found: ${fields[i]!}`);
    v = next;
  }
  return path.testOnly ? isCelMap(v) && v.has(fields[n]!) : v;
}

// The path over a plain JSON object: what selectCel answers on its view, without a view per step.
function selectPlain(obj: Readonly<Record<string, unknown>>, path: Path): CelResult {
  const { fields, ids } = path;
  const n = path.testOnly ? fields.length - 1 : fields.length;
  let v: unknown = obj;
  for (let i = 0; i < n; i++) {
    const name = fields[i]!;
    if (!isJsonObject(v) || !Object.hasOwn(v, name)) return err(ids[i]!, `field not found: ${name}`);
    v = v[name];
  }
  return path.testOnly ? isJsonObject(v) && hasJsonField(v, fields[n]!) : celValue(v);
}

// The frame slot of a variable in scope (noting which declared variables the expression reads), or undefined.
function slotOf(c: Compiler, name: string, scope: Scope): number | undefined {
  const slot = scope.get(name);
  if (slot !== undefined) {
    if (slot < c.declared.length) c.reads.add(name);
    if (name === 'now') c.usesTime = true;
  }
  return slot;
}

function ident(c: Compiler, id: number, name: string, scope: Scope): Node {
  const slot = slotOf(c, name, scope);
  if (slot !== undefined) {
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
  // all, exists and exists_one (a bool or int accumulator) keep no element: their elements may share one view
  const first = x.accuInit.exprKind;
  const cursor = first.case === 'constExpr' && (first.value.constantKind.case === 'boolValue' || first.value.constantKind.case === 'int64Value') ? new ElementCursor() : undefined;
  return (f) => {
    const init = accuInit(f);
    if (isCelError(init)) return init;
    const range = iterRange(f);
    if (isCelError(range)) return range;
    let items: { readonly size: number; get(i: number): CelValue | undefined };
    const plain = cursor && plainArray(range);
    if (plain) items = cursor.over(plain);
    else if (isCelList(range)) items = range;
    else if (isCelMap(range)) {
      const keys = [...range.keys()] as CelValue[];
      items = { size: keys.length, get: (i) => keys[i] };
    } else return err(id, `type mismatch: iterable vs ${String(celType(range))}`);
    f[accuSlot] = init;
    try {
      for (let i = 0; i < items.size; i++) {
        spend(1);
        f[iterSlot] = items.get(i);
        const go = cond(f);
        if (isCelError(go)) return go;
        if (go !== true) break;
        f[accuSlot] = step(f);
      }
    } finally {
      if (plain) cursor.release();
    }
    return result(f);
  };
}

type Call = Extract<Expr['exprKind'], { case: 'callExpr' }>['value'];

function call(c: Compiler, id: number, x: Call, scope: Scope): Node {
  if (x.target) {
    const qualified = qualifiedName(x.target);
    const namespaced = qualified === undefined ? undefined : c.env.funcs.find(`${qualified}.${x.function}`);
    if (namespaced) return dispatch(c, id, `${qualified}.${x.function}`, undefined, x.args.map((a) => node(c, a, scope)), x.args);
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
      return dispatch(c, id, x.function, target, args, x.args);
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
  const mismatch = (v: CelValue | CelError): CelError => (isCelError(v) ? v : err(id, `type mismatch: expected bool, got ${String(celType(v))}`));
  if (args.length === 2) {
    // the parser's shape: both operands evaluated unless the first decides
    const [l, r] = args as [Node, Node];
    return (f) => {
      const x = l(f);
      if (x === decides) return decides;
      const y = r(f);
      if (y === decides) return decides;
      if (typeof x !== 'boolean') return mismatch(x);
      return typeof y === 'boolean' ? !decides : mismatch(y);
    };
  }
  return (f) => {
    let first: CelError | undefined;
    for (const arg of args) {
      const v = arg(f);
      if (typeof v === 'boolean') {
        if (v === decides) return decides;
        continue;
      }
      first ??= mismatch(v);
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

const size: Shortcut = (t) => (typeof t === 'string' ? celInt(codePoints(t)) : isCelList(t) || isCelMap(t) ? celInt(t.size) : undefined);

// Whether the string has a character in the range lo..hi (ASCII letters of one case).
function hasAscii(s: string, lo: number, hi: number): boolean {
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch >= lo && ch <= hi) return true;
  }
  return false;
}

const UPPER = /[A-Z]+/g;
const LOWER = /[a-z]+/g;
const [UPPER_A, UPPER_Z, LOWER_A, LOWER_Z] = [65, 90, 97, 122];

// A quantity method on two quantities (both maps), as its overload answers it.
const quantities = (op: (l: number, r: number) => CelValue): Shortcut => (t, x) => (isCelMap(t) && isCelMap(x) ? op(amount(t), amount(x)) : undefined);

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
  'size/1': (_, a) => size(a, null, null),
  '.size/0': size,
  '.startsWith/1': (t, a) => (typeof t === 'string' && typeof a === 'string' ? t.startsWith(a) : undefined),
  '.endsWith/1': (t, a) => (typeof t === 'string' && typeof a === 'string' ? t.endsWith(a) : undefined),
  '.contains/1': (t, a) => (typeof t === 'string' && typeof a === 'string' ? t.includes(a) : undefined),
  '.lowerAscii/0': (t) => (typeof t !== 'string' ? undefined : hasAscii(t, UPPER_A, UPPER_Z) ? t.replace(UPPER, (m) => m.toLowerCase()) : t),
  '.upperAscii/0': (t) => (typeof t !== 'string' ? undefined : hasAscii(t, LOWER_A, LOWER_Z) ? t.replace(LOWER, (m) => m.toUpperCase()) : t),
  // the Kubernetes quantity library (cel-library.ts), without an argument array and type objects per call
  'quantity/1': (_, x) => (typeof x === 'string' ? parseQuantity(x) : undefined),
  '.isGreaterThan/1': quantities(QUANTITY_COMPARISONS.isGreaterThan),
  '.isLessThan/1': quantities(QUANTITY_COMPARISONS.isLessThan),
  '.compareTo/1': quantities(QUANTITY_COMPARISONS.compareTo),
};

/** How the environment runs `matches()` (its re2 option). */
export interface Matchers {
  compile(pattern: string): { test(s: string): boolean };
}

function dispatch(c: Compiler, id: number, name: string, target: Node | undefined, args: readonly Node[], argExprs: readonly Expr[]): Node {
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
  const [a, b] = args;
  if (name === '!_' && !target && a && !b) {
    // `!` in line (`!has(...)` is in most rules): a bool negated, an error passed on, anything else to the overloads
    return (f) => {
      const v = a(f);
      if (typeof v !== 'boolean') return isCelError(v) ? v : overload(undefined, [v]);
      spend(1);
      return !v;
    };
  }
  const receiver: (f: Frame) => CelResult | undefined = target ?? (() => undefined);
  const shortcut = args.length <= 2 ? shortcutFor(c, name, target !== undefined, argExprs) : undefined;
  if (shortcut) {
    // The shortcut on evaluated values, the overloads when it does not answer.
    const answer = (t: CelValue | undefined, va: CelValue, vb: CelValue): CelResult => {
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
    return shortcutNode(receiver, target !== undefined, a, b, answer);
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

// The shortcut of a call, if any: by name, "." for a method, and the number of arguments; `matches` with the
// environment's regex engine (a constant pattern compiled once, here).
function shortcutFor(c: Compiler, name: string, method: boolean, argExprs: readonly Expr[]): Shortcut | undefined {
  if (name === 'matches' && method && c.matchers) {
    const m = c.matchers;
    const pattern = argExprs[0]?.exprKind;
    const fixed = pattern?.case === 'constExpr' && pattern.value.constantKind.case === 'stringValue' ? compiledOrNot(m, pattern.value.constantKind.value) : undefined;
    if (fixed) return (t, a) => (typeof t === 'string' && typeof a === 'string' ? fixed.test(t) : undefined);
    return (t, a) => (typeof t === 'string' && typeof a === 'string' ? m.compile(a).test(t) : undefined);
  }
  return SHORTCUTS[`${method ? '.' : ''}${name}/${argExprs.length}`];
}

// The pattern compiled, or undefined when it does not compile (the call then reports the error when it runs).
function compiledOrNot(m: Matchers, pattern: string): { test(s: string): boolean } | undefined {
  try {
    return m.compile(pattern);
  } catch {
    return undefined;
  }
}

// A call with a shortcut, one closure per shape (function or method, 0 to 2 arguments): the receiver and the
// arguments evaluated in order, the first error returned.
function shortcutNode(receiver: (f: Frame) => CelResult | undefined, method: boolean, a: Node | undefined, b: Node | undefined, answer: (t: CelValue | undefined, va: CelValue, vb: CelValue) => CelResult): Node {
  if (!method && a && !b) {
    return (f) => {
      const va = a(f);
      return isCelError(va) ? va : answer(undefined, va, null);
    };
  }
  if (!method && a && b) {
    return (f) => {
      const va = a(f);
      if (isCelError(va)) return va;
      const vb = b(f);
      return isCelError(vb) ? vb : answer(undefined, va, vb);
    };
  }
  if (method && !a) {
    return (f) => {
      const t = receiver(f);
      return isCelError(t) ? t : answer(t, null, null);
    };
  }
  return (f) => {
    const t = receiver(f);
    if (isCelError(t)) return t;
    const va = a ? a(f) : null;
    if (isCelError(va)) return va;
    const vb = b ? b(f) : null;
    return isCelError(vb) ? vb : answer(t, va, vb);
  };
}

// Compiles an expression over these declared variables (all of them dyn).
export function compileExpression(env: CelEnv, expr: Expr, declared: readonly string[], matchers?: Matchers): Compiled {
  const c: Compiler = { env, matchers, declared, reads: new Set(), slots: declared.length, supported: true, usesTime: false, iterates: false };
  const root = node(c, expr, new Map(declared.map((name, i) => [name, i])));
  const read = declared.filter((name) => c.reads.has(name));
  const readSlots = read.map((name) => declared.indexOf(name));
  const frame: Frame = new Array<CelResult | undefined>(c.slots).fill(undefined);
  return {
    reads: c.reads,
    supported: c.supported,
    usesTime: c.usesTime,
    iterates: c.iterates,
    // One frame per expression, reused: an evaluation cannot start another of the same expression. It is emptied
    // after each evaluation, so that this long-lived array keeps no review's values alive.
    evaluate(bindings) {
      for (let i = 0; i < read.length; i++) frame[readSlots[i]!] = bindings[read[i]!];
      try {
        return root(frame);
      } finally {
        frame.fill(undefined);
      }
    },
  };
}
