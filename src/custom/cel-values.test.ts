// The JSON views (celValue) read exactly like a deep conversion into @bufbuild/cel's own maps and lists, on random
// JSON values: same keys, same elements, same presence, equal under CEL's ==.
import { describe, expect, it } from 'vitest';
import { celEnv, celList, celMap, CelScalar, isCelList, isCelMap, parse, plan } from '@bufbuild/cel';
import type { CelInput, CelValue } from '@bufbuild/cel';
import { celInt, celValue, ElementCursor } from './cel-values.js';

// The reference: every object and array copied into @bufbuild/cel maps and lists, whole numbers as ints.
function deepCopy(v: unknown): CelInput {
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (v === undefined) return null;
  if (typeof v !== 'object' || v === null) return v as CelInput;
  if (Array.isArray(v)) return celList(v.map(deepCopy));
  const entries = new Map<string, CelInput>();
  for (const k in v) entries.set(k, deepCopy((v as Record<string, unknown>)[k]));
  return celMap(entries);
}

// A small deterministic PRNG (mulberry32), so a failure names a seed that reproduces it.
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = ['name', 'image', 'ports', 'containerPort', 'limits', 'memory', 'env', 'value', '', 'x.y', '0'];

function jsonOf(r: () => number, depth: number): unknown {
  const pick = Math.floor(r() * (depth > 3 ? 6 : 8));
  switch (pick) {
    case 0: return null;
    case 1: return r() < 0.5;
    case 2: return Math.floor(r() * 200_000) - 100_000;
    case 3: return r() * 10;
    case 4: return KEYS[Math.floor(r() * KEYS.length)]!;
    case 5: return undefined;
    case 6: return Array.from({ length: Math.floor(r() * 4) }, () => jsonOf(r, depth + 1));
    default: return Object.fromEntries(Array.from({ length: Math.floor(r() * 4) }, () => [KEYS[Math.floor(r() * KEYS.length)]!, jsonOf(r, depth + 1)]));
  }
}

// Reads both values through the CelMap / CelList interfaces and expects the same answers.
function expectSame(view: CelValue, copy: CelValue, at: string): void {
  if (!isCelMap(copy) && !isCelList(copy)) {
    expect(view, at).toEqual(copy);
    return;
  }
  if (isCelList(copy)) {
    expect(isCelList(view), at).toBe(true);
    if (!isCelList(view)) return;
    expect(view.size, at).toBe(copy.size);
    for (let i = -1; i <= copy.size; i++) {
      const [a, b] = [view.get(i), copy.get(i)];
      if (a === undefined || b === undefined) expect(a, `${at}[${i}]`).toBe(b);
      else expectSame(a, b, `${at}[${i}]`);
    }
    expect([...view].length, at).toBe(copy.size);
    return;
  }
  expect(isCelMap(view), at).toBe(true);
  if (!isCelMap(view)) return;
  expect(view.size, at).toBe(copy.size);
  expect([...view.keys()], at).toEqual([...copy.keys()]);
  for (const k of [...KEYS, 'absent']) {
    expect(view.has(k), `${at}.has(${k})`).toBe(copy.has(k));
    const [a, b] = [view.get(k), copy.get(k)];
    if (a === undefined || b === undefined) expect(a, `${at}.${k}`).toBe(b);
    else expectSame(a, b, `${at}.${k}`);
  }
  for (const k of [0n, 1n, true, 1.5]) expect(view.get(k), `${at}[${String(k)}]`).toBe(copy.get(k as bigint));
}

const equal = plan(celEnv({ variables: { a: CelScalar.DYN, b: CelScalar.DYN } }), parse('a == b && b == a'));

describe('celValue views', () => {
  it('read like a deep conversion, on 500 random JSON values', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const json = jsonOf(random(seed), 0);
      const [view, copy] = [celValue(json), deepCopy(json) as CelValue];
      expectSame(view, copy, `seed ${seed}`);
      expect(equal({ a: view, b: copy }), `seed ${seed}`).toBe(true);
    }
  });

  it('an ElementCursor reads each element of an array like its own view, one element at a time, on 300 random arrays', () => {
    const cursor = new ElementCursor();
    for (let seed = 1; seed <= 300; seed++) {
      const r = random(seed);
      const items = Array.from({ length: Math.floor(r() * 6) }, () => jsonOf(r, 1));
      const read = cursor.over(items);
      expect(read.size, `seed ${seed}`).toBe(items.length);
      for (let i = 0; i < items.length; i++) {
        const [view, copy] = [read.get(i), deepCopy(items[i]) as CelValue];
        expectSame(view, copy, `seed ${seed}[${i}]`);
        expect(equal({ a: view, b: copy }), `seed ${seed}[${i}]`).toBe(true);
      }
    }
  });

  it('small whole numbers are shared ints with the same value', () => {
    for (const n of [0, -0, 1, 1023, 1024, -1, 2 ** 53, 2 ** 60]) expect(celInt(n)).toBe(BigInt(n));
    expect(celInt(7)).toBe(celInt(7));
  });

  it('whole numbers are CEL ints, others doubles; undefined is null', () => {
    const view = celValue({ port: 8080, ratio: 0.5, gone: undefined, list: [1, 2.5] });
    expect(isCelMap(view) && view.get('port')).toBe(8080n);
    expect(isCelMap(view) && view.get('ratio')).toBe(0.5);
    expect(isCelMap(view) && view.get('gone')).toBe(null);
    expect(isCelMap(view) && view.has('gone')).toBe(false);
    const list = isCelMap(view) ? view.get('list') : undefined;
    expect(isCelList(list) && [...list]).toEqual([1n, 2.5]);
  });
});
