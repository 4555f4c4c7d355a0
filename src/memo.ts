// A memo of values computed from a key, bounded in entries: it starts over once full, since its keys (image names,
// patterns, quantities) come from configs and reviews, whose number has no bound.

/** Values by key, at most `max` of them (all forgotten when a new one would pass it); a value is never undefined. */
export class BoundedMemo<K, V extends object | string | number | boolean | null> {
  private readonly values = new Map<K, V>();
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  /** the value kept for the key, or undefined */
  get(key: K): V | undefined {
    return this.values.get(key);
  }

  /** keeps the value for the key (forgetting every other one when full) and returns it */
  set(key: K, value: V): V {
    if (this.values.size >= this.max && !this.values.has(key)) this.values.clear();
    this.values.set(key, value);
    return value;
  }

  get size(): number {
    return this.values.size;
  }
}
