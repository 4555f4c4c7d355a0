// JSON values (Kubernetes objects, image facts) as CEL inputs: whole numbers become CEL ints, as the API server's
// CEL sees them; converted once per object.
import type { CelInput } from '@bufbuild/cel';
import type { ImageFact } from '../engine/types.js';

const converted = new WeakMap<object, CelInput>();

// A JSON value as a CEL input (objects are converted once and remembered).
export function celValue(v: unknown): CelInput {
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (v === undefined) return null;
  if (typeof v !== 'object' || v === null) return v as CelInput;
  const seen = converted.get(v);
  if (seen !== undefined) return seen;
  const out: CelInput = Array.isArray(v) ? v.map(celValue) : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, celValue(x)]));
  converted.set(v, out);
  return out;
}

// An image fact as the `image` variable: User, Env, labels, digest, size (null when the fact is not available).
export function celImage(fact: ImageFact): CelInput {
  if (fact.status !== 'ok') return null;
  return {
    user: fact.user,
    env: [...(fact.env ?? [])],
    labels: { ...(fact.labels ?? {}) },
    digest: fact.digest,
    size: BigInt(fact.compressedSize ?? 0),
    platform: fact.platform,
  };
}
