// What the code generated for a CEL expression (cel-eval.ts) calls at run time: value operations with the errors
// @bufbuild/cel's planner gives (field not found, index out of bounds, type mismatches), and the iteration of a
// comprehension's range.
import { celError, celList, celMap, celType, celUint, isCelError, isCelList, isCelMap, isCelUint } from '@bufbuild/cel';
import type { CelError, CelResult, CelValue } from '@bufbuild/cel';
import { spend } from './cel-budget.js';
import { celValue, hasJsonField, plainArray, plainObject } from './cel-values.js';
import { isObject } from '../workload/k8s.js';

export const err = (id: number, message: string): CelError => celError(message, id);
export const unresolved = (id: number): CelError => err(id, 'unresolved attribute');

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
export function index(id: number, obj: CelValue, key: CelValue): CelResult {
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
export function mapKey(id: number, key: CelResult): CelResult {
  if (isCelError(key)) return key;
  if (typeof key === 'boolean' || typeof key === 'bigint' || typeof key === 'string' || isCelUint(key)) return key;
  if (typeof key === 'number' && Number.isInteger(key)) return BigInt(key);
  return err(id, 'unsupported key type');
}

type MapEntries = Map<bigint | string | boolean | ReturnType<typeof celUint>, CelValue>;

// Adds a map literal's entry (its key from mapKey); the error for a repeated key, else undefined.
export function addEntry(id: number, entries: MapEntries, key: CelValue, value: CelValue): CelError | undefined {
  if (entries.has(key as string)) return err(id, `map key conflict: ${String(key)}`);
  entries.set(key as string, value);
  return undefined;
}

// Fields selected from a CEL value (maps of @bufbuild/cel, literals, views): the value the path ends at, or has()
// of its last field; the first absent field's error, named by its own node.
export function selectCel(obj: CelValue, fields: readonly string[], ids: readonly number[], testOnly: boolean): CelResult {
  const n = testOnly ? fields.length - 1 : fields.length;
  let v: CelValue = obj;
  for (let i = 0; i < n; i++) {
    const next = byName(v, fields[i]!);
    if (next === undefined) return err(ids[i]!, `field not found: ${fields[i]!}`);
    v = next;
  }
  return testOnly ? isCelMap(v) && v.has(fields[n]!) : v;
}

// && and ||: the error for an operand that decided nothing (itself when it is an error).
export function notBool(id: number, v: CelResult): CelError {
  return isCelError(v) ? v : err(id, `type mismatch: expected bool, got ${String(celType(v))}`);
}

// _?_:_ on a condition that is neither a bool nor an error.
export function notCondition(id: number, v: CelValue): CelError {
  return err(id, `found no matching overload for _?_:_ applied to '(${celType(v).name})'`);
}

/** The elements a comprehension steps over. */
export interface Items {
  readonly size: number;
  get(i: number): CelValue | undefined;
}

// What a comprehension iterates (when its plain array does not go through an element cursor): a list, or a map's
// keys; the type error for anything else.
export function itemsOf(id: number, range: CelValue): Items | CelError {
  if (isCelList(range)) return range;
  if (isCelMap(range)) {
    const keys = [...range.keys()] as CelValue[];
    return { size: keys.length, get: (i) => keys[i] };
  }
  return err(id, `type mismatch: iterable vs ${String(celType(range))}`);
}

/** Everything the generated code reads from its H parameter. */
export const RUNTIME = {
  isCelError, plainObject, isJsonObject: isObject, hasJsonField, celValue, celList, celMap, err, unresolved, index, mapKey, addEntry,
  selectCel, notBool, notCondition, itemsOf, plainArray, spend, hasOwn: Object.hasOwn,
} as const;
