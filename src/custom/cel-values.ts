// JSON values (Kubernetes objects, image facts) as CEL values: whole numbers become CEL ints, as the API server's
// CEL sees them; objects and arrays become read-only CEL map and list views over the plain value, converting an
// element when a rule reads it, so a review's object is never copied. Views keep nothing but the plain value: they
// are small and die young, which costs the garbage collector less than a cache that outlives the review.
import type { CelList, CelMap, CelValue } from '@bufbuild/cel';
import type { ImageFact } from '../engine/types.js';

// The brands @bufbuild/cel recognises a map and a list by (isCelMap, isCelList).
const MAP_BRAND = Symbol.for('@bufbuild/cel/map');
const LIST_BRAND = Symbol.for('@bufbuild/cel/list');
const BRAND = Object.freeze({});

type Json = Record<string, unknown>;
type Key = bigint | string | boolean | number | { readonly value: bigint };

/** The CEL ints 0..1023, made once: whole numbers this small (sizes, counts, small settings) are read often. */
const SMALL_INTS: readonly bigint[] = Array.from({ length: 1024 }, (_, i) => BigInt(i));

/** A whole number as a CEL int (the same bigint value; small ones are not allocated again). */
export function celInt(n: number): bigint {
  return n >= 0 && n < SMALL_INTS.length ? SMALL_INTS[n]! : BigInt(n);
}

// A JSON value as a CEL value; objects and arrays become views.
export function celValue(v: unknown): CelValue {
  switch (typeof v) {
    case 'number':
      return Number.isInteger(v) ? celInt(v) : v;
    case 'string':
    case 'boolean':
    case 'bigint':
      return v;
    case 'undefined':
      return null;
    default:
      if (v === null) return null;
      return Array.isArray(v) ? (new JsonList(v) as unknown as CelList) : (new JsonMap(v as Json) as unknown as CelMap);
  }
}

/** Whether a JSON object has this field, not null (what `has(x.field)` and `in` answer on its CEL map). */
export function hasJsonField(raw: Json, name: string): boolean {
  return Object.hasOwn(raw, name) && raw[name] != undefined;
}

/** The plain object a CEL map view reads, or undefined for any other value (the evaluator reads paths of fields
 *  over it, converting only the value it ends at). */
export function plainObject(v: unknown): Json | undefined {
  return v instanceof JsonMap ? v.raw : undefined;
}

/** The plain array a CEL list view reads, or undefined for any other value. */
export function plainArray(v: CelValue | undefined): readonly unknown[] | undefined {
  return v instanceof JsonList ? v.raw : undefined;
}

/** A plain JSON object as a CEL map with string keys (a key whose value is null or undefined reads as null and is not "in" the map, as with @bufbuild/cel's own maps). */
class JsonMap {
  readonly [MAP_BRAND] = BRAND;
  private names: string[] | undefined;
  constructor(public raw: Json) {}

  // Reads another object from now on (ElementCursor).
  rebind(raw: Json): void {
    this.raw = raw;
    this.names = undefined;
  }

  get size(): number {
    return this.keyList().length;
  }

  get(key: Key): CelValue | undefined {
    if (typeof key !== 'string' || !Object.hasOwn(this.raw, key)) return undefined;
    return celValue(this.raw[key]);
  }

  has(key: Key): boolean {
    return typeof key === 'string' && hasJsonField(this.raw, key);
  }

  private keyList(): string[] {
    return (this.names ??= Object.keys(this.raw));
  }

  keys(): MapIterator<string> {
    return this.keyList()[Symbol.iterator]();
  }

  *values(): MapIterator<CelValue> {
    for (const k of this.keyList()) yield this.get(k)!;
  }

  *entries(): MapIterator<[string, CelValue]> {
    for (const k of this.keyList()) yield [k, this.get(k)!];
  }

  forEach(callback: (value: CelValue, key: string, map: CelMap) => void, thisArg?: unknown): void {
    for (const k of this.keyList()) callback.call(thisArg, this.get(k)!, k, this as unknown as CelMap);
  }

  [Symbol.iterator](): MapIterator<[string, CelValue]> {
    return this.entries();
  }
}

/** A JSON array as a CEL list. */
class JsonList {
  readonly [LIST_BRAND] = BRAND;
  constructor(public raw: readonly unknown[]) {}

  get size(): number {
    return this.raw.length;
  }

  get(index: number): CelValue | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.raw.length) return undefined;
    return celValue(this.raw[index]);
  }

  *values(): ArrayIterator<CelValue> {
    for (let i = 0; i < this.raw.length; i++) yield this.get(i)!;
  }

  [Symbol.iterator](): ArrayIterator<CelValue> {
    return this.values();
  }
}

/** The elements of a plain array as CEL values through one map view and one list view, rebound to each element
 *  in turn (other values as celValue makes them): for a comprehension whose steps keep no element (all, exists,
 *  exists_one), so that iterating makes no view per element. An element read is valid until the next one is. */
const NOTHING: readonly unknown[] = [];
const NO_FIELDS: Json = {};

export class ElementCursor {
  private readonly map = new JsonMap(NO_FIELDS);
  private readonly list = new JsonList(NOTHING);
  private items: readonly unknown[] = NOTHING;

  // Iterates this array from now on.
  over(items: readonly unknown[]): this {
    this.items = items;
    return this;
  }

  // Lets go of the array and its last element (the cursor outlives the review they belong to).
  release(): void {
    this.items = NOTHING;
    this.map.rebind(NO_FIELDS);
    this.list.raw = NOTHING;
  }

  get size(): number {
    return this.items.length;
  }

  get(index: number): CelValue {
    const v = this.items[index];
    if (typeof v !== 'object' || v === null) return celValue(v);
    if (Array.isArray(v)) {
      this.list.raw = v;
      return this.list as unknown as CelList;
    }
    this.map.rebind(v as Json);
    return this.map as unknown as CelMap;
  }
}

// An image fact as the `image` variable: User, Env, labels, digest, size (null when the fact is not available).
export function celImage(fact: ImageFact): CelValue {
  if (fact.status !== 'ok') return null;
  return celValue({ user: fact.user, env: fact.env ?? [], labels: fact.labels ?? {}, digest: fact.digest, size: fact.compressedSize ?? 0, platform: fact.platform });
}
