// JSON values (Kubernetes objects, image facts) as CEL values: whole numbers become CEL ints, as the API server's
// CEL sees them; objects and arrays become CEL maps and lists once per object (plain objects would be wrapped
// again on every access).
import { celList, celMap } from '@bufbuild/cel';
import type { CelInput } from '@bufbuild/cel';
import type { ImageFact } from '../engine/types.js';

// A JSON value as a CEL value (the caller converts each object once: see policy.ts).
export function celValue(v: unknown): CelInput {
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (v === undefined) return null;
  if (typeof v !== 'object' || v === null) return v as CelInput;
  if (Array.isArray(v)) return celList(v.map(celValue));
  const entries = new Map<string, CelInput>();
  for (const k in v) entries.set(k, celValue((v as Record<string, unknown>)[k]));
  return celMap(entries);
}

// An image fact as the `image` variable: User, Env, labels, digest, size (null when the fact is not available).
export function celImage(fact: ImageFact): CelInput {
  if (fact.status !== 'ok') return null;
  return celValue({ user: fact.user, env: fact.env ?? [], labels: fact.labels ?? {}, digest: fact.digest, size: fact.compressedSize ?? 0, platform: fact.platform });
}
