// Function calls of compiled CEL expressions at run time: each call site goes through the environment's overloads
// (trying first the one that matched last time) or, for the calls most rules make, a shortcut on the evaluated
// values that answers what those overloads answer. Every call is charged to the evaluation's cost budget, and a
// string it builds to the allocation budget.
import { CelScalar, celError, celType, isCelList, isCelMap } from '@bufbuild/cel';
import type { CelEnv, CelFunc, CelList, CelResult, CelValue, parse } from '@bufbuild/cel';
import { budgetExceeded, BudgetExceeded, charge, spend } from './cel-budget.js';
import { amount, parseQuantity, QUANTITY_COMPARISONS } from './cel-library.js';
import { celInt } from './cel-values.js';

type Expr = NonNullable<ReturnType<typeof parse>['expr']>;

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

/** A call site through the overloads: the receiver (undefined for a function) and the evaluated arguments. */
export type Overload = (t: CelValue | undefined, vals: CelValue[]) => CelResult;
/** A call site with a shortcut: the receiver and up to two evaluated arguments (null when absent). */
export type Answer = (t: CelValue | undefined, va: CelValue, vb: CelValue) => CelResult;

// The call of `name` at expression `id` through the environment's overloads, the one that matched last time first;
// undefined when the environment has no such function.
export function overloadCall(env: CelEnv, id: number, name: string): Overload | undefined {
  const group = env.funcs.find(name);
  if (!group) return undefined;
  const funcs = [...group];
  let last: CelFunc | undefined;
  return (t, vals) => {
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
    return celError(`found no matching overload for '${name}' applied to '${on}(${vals.map((v) => celType(v).name).join(', ')})'`, id);
  };
}

// The call of a site with a shortcut, on the values evaluated: the shortcut's answer, else the overloads';
// undefined when the call has no shortcut.
export function shortcutCall(id: number, name: string, method: boolean, argExprs: readonly Expr[], overload: Overload, matchers: Matchers | undefined): Answer | undefined {
  const shortcut = argExprs.length <= 2 ? shortcutFor(name, method, argExprs, matchers) : undefined;
  if (!shortcut) return undefined;
  const arity = argExprs.length;
  return (t, va, vb) => {
    let r: CelValue | undefined;
    try {
      r = shortcut(t, va, vb);
    } catch (e) {
      return celError(e, id);
    }
    if (r === undefined) return overload(t, arity === 0 ? [] : arity === 1 ? [va] : [va, vb]);
    spend(1);
    if (typeof r === 'string') charge(r.length);
    return r;
  };
}

// The shortcut of a call, if any: by name, "." for a method, and the number of arguments; `matches` with the
// environment's regex engine (a constant pattern compiled once, here).
function shortcutFor(name: string, method: boolean, argExprs: readonly Expr[], matchers: Matchers | undefined): Shortcut | undefined {
  if (name === 'matches' && method && matchers) {
    const m = matchers;
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

