// What the built-in policies share: the Pod Security Standards controls' metadata and common parameter shapes.
import type { PodSecurityLevel } from '../src/engine/types.js';

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
