// JSON Patches (RFC 6902) of the mutating webhook: a Pod's images pinned to digests, and the annotation that says so.
import type { ContainerList } from '../engine/types.js';
import { isObject } from '../workload/k8s.js';
import { pointerSegment } from '../kube/json-pointer.js';

export const PINNED_ANNOTATION = 'portcullis.dev/pinned';

export interface PatchOperation {
  readonly op: 'add' | 'replace';
  readonly path: string;
  readonly value: unknown;
}

export interface ImagePin {
  readonly list: ContainerList;
  readonly index: number;
  readonly name: string;
  readonly image: string;
  readonly digest: string;
}

// The annotation entries already on the Pod (from an earlier invocation), "name=digest" separated by commas.
function existingEntries(value: unknown): Map<string, string> {
  const entries = new Map<string, string>();
  if (typeof value !== 'string') return entries;
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) entries.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return entries;
}

// The operations that set the pinned annotation: merged with entries an earlier invocation wrote.
function annotationOps(pod: unknown, pins: readonly ImagePin[]): PatchOperation[] {
  const metadata = isObject(pod) ? pod.metadata : undefined;
  const annotations = isObject(metadata) ? metadata.annotations : undefined;
  const entries = existingEntries(isObject(annotations) ? annotations[PINNED_ANNOTATION] : undefined);
  for (const pin of pins) entries.set(pin.name, pin.digest);
  const value = [...entries].map(([name, digest]) => `${name}=${digest}`).join(',');
  if (isObject(annotations)) return [{ op: 'add', path: `/metadata/annotations/${pointerSegment(PINNED_ANNOTATION)}`, value }];
  if (isObject(metadata)) return [{ op: 'add', path: '/metadata/annotations', value: { [PINNED_ANNOTATION]: value } }];
  return [{ op: 'add', path: '/metadata', value: { annotations: { [PINNED_ANNOTATION]: value } } }];
}

// The patch that pins each image in place (`name:tag@sha256:…`) and records it in the annotation.
export function pinPatch(pod: unknown, pins: readonly ImagePin[], annotate: boolean): PatchOperation[] {
  if (pins.length === 0) return [];
  const ops: PatchOperation[] = pins.map((pin) => ({ op: 'replace', path: `/spec/${pin.list}/${pin.index}/image`, value: `${pin.image}@${pin.digest}` }));
  return annotate ? [...ops, ...annotationOps(pod, pins)] : ops;
}
