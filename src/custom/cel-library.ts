// The Kubernetes CEL library a ValidatingAdmissionPolicy author expects, for @bufbuild/cel: regex (find,
// findAll), URLs, lists (isSorted, sum, min, max, indexOf, lastIndexOf), quantities; plus string and list
// concatenation, join and replace charged to the evaluation's allocation budget.
import { celFunc, celMap, celMethod, celListConcat, CelScalar, listType, mapType } from '@bufbuild/cel';
import type { CelFunc, CelList, CelMap, CelValue } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { RE2JS } from '@bufbuild/re2';
import { charge } from './cel-budget.js';
import { BoundedMemo } from '../memo.js';

const { STRING, INT, BOOL, DOUBLE, DYN } = CelScalar;
const LIST = listType(DYN);
const MAP = mapType(STRING, DYN);

const patterns = new BoundedMemo<string, RegExp>(1000);
// A pattern checked as RE2 syntax (what the API server accepts) and compiled once.
function re(pattern: string): RegExp {
  const compiled = patterns.get(pattern);
  if (compiled) return compiled;
  RE2JS.compile(pattern);
  return patterns.set(pattern, new RegExp(pattern, 'gu'));
}

const MAX_REGEX_INPUT = 65_536;

// The first `limit` matches of the pattern in s (all when limit < 0).
function findAll(s: string, pattern: string, limit: bigint): string[] {
  if (s.length > MAX_REGEX_INPUT) throw new Error(`expected a string of at most ${MAX_REGEX_INPUT} characters to search, got ${s.length}`);
  const r = re(pattern);
  r.lastIndex = 0;
  const out: string[] = [];
  for (let m = r.exec(s); m && (limit < 0n || BigInt(out.length) < limit); m = r.exec(s)) {
    out.push(m[0]);
    if (m[0] === '') r.lastIndex++;
  }
  return out;
}

const regex: CelFunc[] = [
  celMethod('find', STRING, [STRING], STRING, function (p) { return findAll(this, p, 1n)[0] ?? ''; }),
  celMethod('findAll', STRING, [STRING], LIST, function (p) { return findAll(this, p, -1n); }),
  celMethod('findAll', STRING, [STRING, INT], LIST, function (p, n) { return findAll(this, p, n); }),
];

/** A parsed URL, as a map: the url() value. */
function parseUrl(s: string): Map<string, string> {
  const u = new URL(s);
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(s) && !s.startsWith('/')) throw new Error(`expected an absolute URI or path, got "${s}"`);
  return new Map([
    ['scheme', u.protocol.replace(/:$/, '')],
    ['host', u.host],
    ['hostname', u.hostname.replace(/^\[|\]$/g, '')],
    ['port', u.port],
    ['path', u.pathname],
    ['query', u.search.replace(/^\?/, '')],
  ]);
}

const part = (name: string) => (target: CelMap): string => String(target.get(name) ?? '');

const url: CelFunc[] = [
  celFunc('url', [STRING], MAP, parseUrl),
  celFunc('isURL', [STRING], BOOL, (s) => {
    try {
      parseUrl(s);
      return true;
    } catch {
      return false;
    }
  }),
  celMethod('getScheme', MAP, [], STRING, function () { return part('scheme')(this); }),
  celMethod('getHost', MAP, [], STRING, function () { return part('host')(this); }),
  celMethod('getHostname', MAP, [], STRING, function () { return part('hostname')(this); }),
  celMethod('getPort', MAP, [], STRING, function () { return part('port')(this); }),
  celMethod('getEscapedPath', MAP, [], STRING, function () { return part('path')(this); }),
];

function compare(a: CelValue, b: CelValue): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return Number(a) - Number(b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  throw new Error(`expected comparable list elements, got ${typeof a} and ${typeof b}`);
}

const items = (l: CelList): CelValue[] => [...l];
function extreme(l: CelList, sign: number): CelValue {
  const all = items(l);
  if (all.length === 0) throw new Error('expected a non-empty list, got an empty one');
  return all.reduce((best, v) => (compare(v, best) * sign > 0 ? v : best));
}

const lists: CelFunc[] = [
  celMethod('isSorted', LIST, [], BOOL, function () {
    const all = items(this);
    return all.every((v, i) => i === 0 || compare(all[i - 1]!, v) <= 0);
  }),
  celMethod('sum', LIST, [], DYN, function () {
    const all = items(this);
    if (all.every((v) => typeof v === 'bigint')) return (all as bigint[]).reduce((s, v) => s + v, 0n);
    return all.reduce<number>((s, v) => s + Number(v), 0);
  }),
  celMethod('min', LIST, [], DYN, function () { return extreme(this, -1) as never; }),
  celMethod('max', LIST, [], DYN, function () { return extreme(this, 1) as never; }),
  celMethod('indexOf', LIST, [DYN], INT, function (x) { return BigInt(items(this).findIndex((v) => safeCompare(v, x) === 0)); }),
  celMethod('lastIndexOf', LIST, [DYN], INT, function (x) {
    const all = items(this);
    for (let i = all.length - 1; i >= 0; i--) if (safeCompare(all[i]!, x) === 0) return BigInt(i);
    return -1n;
  }),
];

function safeCompare(a: CelValue, b: CelValue): number {
  try {
    return compare(a, b);
  } catch {
    return 1;
  }
}

const SUFFIXES: Record<string, number> = {
  '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};
const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$/;

const quantities = new BoundedMemo<string, CelMap>(1000);
/** A Kubernetes resource quantity ("500m", "1Gi", "1e3"), as a map with its text and value (each text parsed once). */
export function parseQuantity(s: string): CelMap {
  let q = quantities.get(s);
  if (q === undefined) {
    const m = QUANTITY.exec(s);
    if (!m) throw new Error(`expected a quantity such as 500m or 1Gi, got "${s}"`);
    const value = Number(m[1]) * (m[2] ? 10 ** Number(m[2].slice(1)) : SUFFIXES[m[3] ?? '']!);
    q = quantities.set(s, celMap(new Map<string, CelValue>([['quantity', s], ['value', value]])));
  }
  return q;
}

/** The value of a quantity (a map made by parseQuantity); throws for another map. */
export const amount = (q: CelMap): number => {
  const v = q.get('value');
  if (typeof v !== 'number') throw new Error('expected a quantity, got a map');
  return v;
};

/** The methods comparing two quantities, on their values (the overloads below and the evaluator's shortcuts). */
export const QUANTITY_COMPARISONS = {
  isGreaterThan: (l: number, r: number): boolean => l > r,
  isLessThan: (l: number, r: number): boolean => l < r,
  compareTo: (l: number, r: number): bigint => BigInt(Math.sign(l - r)),
} as const;

const quantity: CelFunc[] = [
  celFunc('quantity', [STRING], MAP, parseQuantity),
  celFunc('isQuantity', [STRING], BOOL, (s) => QUANTITY.test(s)),
  celMethod('isGreaterThan', MAP, [MAP], BOOL, function (o) { return QUANTITY_COMPARISONS.isGreaterThan(amount(this), amount(o)); }),
  celMethod('isLessThan', MAP, [MAP], BOOL, function (o) { return QUANTITY_COMPARISONS.isLessThan(amount(this), amount(o)); }),
  celMethod('compareTo', MAP, [MAP], INT, function (o) { return QUANTITY_COMPARISONS.compareTo(amount(this), amount(o)); }),
  celMethod('asApproximateFloat', MAP, [], DOUBLE, function () { return amount(this); }),
  celMethod('asInteger', MAP, [], INT, function () {
    const v = amount(this);
    if (!Number.isSafeInteger(v)) throw new Error(`expected a quantity that is a whole number, got ${v}`);
    return BigInt(v);
  }),
  celMethod('isInteger', MAP, [], BOOL, function () { return Number.isSafeInteger(amount(this)); }),
  celMethod('add', MAP, [MAP], MAP, function (o) { return new Map<string, CelValue>([['quantity', ''], ['value', amount(this) + amount(o)]]); }),
  celMethod('sub', MAP, [MAP], MAP, function (o) { return new Map<string, CelValue>([['quantity', ''], ['value', amount(this) - amount(o)]]); }),
];

// s with its first n occurrences of `from` replaced by `to`, in one pass, charged before it is built (the strings
// extension's own replace answers the same in quadratic time).
function replace(s: string, from: string, to: string, n: number): string {
  if (n <= 0) return s;
  if (from === '') {
    charge(s.length + n * to.length);
    return to.repeat(n) + s;
  }
  const at: number[] = [];
  for (let i = s.indexOf(from); i !== -1 && at.length < n; i = s.indexOf(from, i + from.length)) at.push(i);
  charge(s.length + at.length * Math.max(0, to.length - from.length));
  let out = '';
  let prev = 0;
  for (const i of at) {
    out += s.slice(prev, i) + to;
    prev = i + from.length;
  }
  return out + s.slice(prev);
}

// Concatenation charged to the allocation budget (overrides the standard _+_ for strings and lists).
const budgeted: CelFunc[] = [
  celFunc('_+_', [STRING, STRING], STRING, (l, r) => {
    charge(l.length + r.length);
    return l + r;
  }),
  celFunc('_+_', [LIST, LIST], LIST, (l, r) => {
    charge(l.size + r.size);
    return celListConcat(l, r);
  }),
  celMethod('replace', STRING, [STRING, STRING], STRING, function (from, to) { return replace(this, from, to, this.length); }),
  celMethod('replace', STRING, [STRING, STRING, INT], STRING, function (from, to, n) { return replace(this, from, to, Number(n)); }),
  celMethod('join', LIST, [STRING], STRING, function (sep) {
    const all = items(this).map(String);
    charge(all.reduce((n, s) => n + s.length + sep.length, 0));
    return all.join(sep);
  }),
];

/** Every function custom policies may call beyond the CEL standard library. */
export const KUBERNETES_LIBRARY: readonly CelFunc[] = [...strings, ...regex, ...url, ...lists, ...quantity, ...budgeted];

/** Inputs at most this long have their `matches()` result remembered per pattern. */
const REMEMBERED_INPUT = 256;
/** Results remembered per pattern (the oldest half is dropped when full). */
const REMEMBERED_RESULTS = 512;

/** A pattern compiled once with RE2 (linear time), remembering its answer for short inputs: admission traffic
 *  asks the same questions (image names, env names) over and over. */
class Matcher {
  private readonly results = new Map<string, boolean>();
  constructor(private readonly re2: RE2JS) {}

  test(s: string): boolean {
    if (s.length > REMEMBERED_INPUT) return this.re2.test(s);
    let r = this.results.get(s);
    if (r === undefined) {
      r = this.re2.test(s);
      if (this.results.size >= REMEMBERED_RESULTS) {
        let drop = REMEMBERED_RESULTS / 2;
        for (const k of this.results.keys()) {
          if (drop-- === 0) break;
          this.results.delete(k);
        }
      }
      this.results.set(s, r);
    }
    return r;
  }
}

const matchers = new BoundedMemo<string, Matcher>(1000);
/** RE2 for `matches()`, each pattern compiled once (the standard library compiles it on every call). */
export const CACHED_RE2 = {
  compile(pattern: string): Matcher {
    return matchers.get(pattern) ?? matchers.set(pattern, new Matcher(RE2JS.compile(pattern)));
  },
};
