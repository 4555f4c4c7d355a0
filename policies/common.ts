// What the built-in policies share: the Pod Security Standards controls' metadata and common parameter shapes.
import type { PodSecurityLevel } from '../src/engine/types.js';
import { POD_SPEC_PATHS } from '../src/workload/podspecs.js';

/** A baseline control: in both profiles, warns by default (nothing breaks on install), spec only, Windows too. */
export const BASELINE_CONTROL = {
  category: 'Pod Security',
  defaultAction: 'warn',
  podSecurity: { baseline: {} },
  facts: [],
  appliesToWindows: true,
} as const;

/** A restricted-only control: off until the restricted preset or a per-policy setting turns it on. */
export const RESTRICTED_CONTROL = { ...BASELINE_CONTROL, defaultAction: 'off', podSecurity: { restricted: {} } } as const;

/** No parameters. */
export const NO_PARAMS = { paramsSchema: {}, defaults: {} } as const;

/** The `level: baseline | restricted` parameter, which each profile's preset sets to its own level. */
export const LEVEL_PARAM = {
  podSecurity: { baseline: { level: 'baseline' as PodSecurityLevel }, restricted: { level: 'restricted' as PodSecurityLevel } },
  paramsSchema: { level: { enum: ['baseline', 'restricted'] } },
  defaults: { level: 'baseline' as PodSecurityLevel },
} as const;

/** JSON schema of a list of distinct non-empty names. */
export const NAME_LIST = { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true } as const;

/** A field of the metadata next to the pod spec (the Pod's, or its template's) as CEL over `object`, or `fallback`. */
export function celPodMetadata(field: string, fallback: string): string {
  const byPath = new Map<string, string[]>();
  for (const [key, path] of Object.entries(POD_SPEC_PATHS)) {
    const at = [...path.slice(0, -1), 'metadata', field].join('.');
    byPath.set(at, [...(byPath.get(at) ?? []), key.split('/')[1]!]);
  }
  const present = (at: string): string => at.split('.').map((_, i, parts) => `has(object.${parts.slice(0, i + 1).join('.')})`).join(' && ');
  return [...byPath].reduceRight(
    (rest, [at, kinds]) => `(${kinds.map((k) => `object.kind == '${k}'`).join(' || ')}) ? (${present(at)} ? object.${at} : ${fallback}) : ${rest}`,
    fallback,
  );
}
