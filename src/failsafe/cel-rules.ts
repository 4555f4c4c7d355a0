// The CEL rules of a policy as a fail-safe sees them: a custom policy's declaration, a built-in's `cel`, or why
// the policy cannot run inside the API server; and the parameters as its rules read them.
import type { CelRules, Policy } from '../engine/types.js';
import { readsTime } from '../custom/policy.js';
import type { CustomPolicy } from '../custom/policy.js';
import { globToRegex } from './rewrite.js';

export type FailSafeRules = { readonly ok: true; readonly rules: CelRules; readonly onError: 'deny' | 'allow' } | { readonly ok: false; readonly reason: string };

/** A built-in whose glob parameters its CEL rules read as RE2 patterns: `<name>Patterns` next to `<name>`. */
export interface CelGlobParams {
  readonly celGlobParams: readonly string[];
}

export type CelParams = { readonly ok: true; readonly params: Readonly<Record<string, unknown>> } | { readonly ok: false; readonly reason: string };

function isCustom(policy: Policy): policy is CustomPolicy {
  return 'custom' in policy;
}

// The glob parameters a built-in declares.
function globParamsOf(policy: Policy): readonly string[] {
  return 'celGlobParams' in policy ? (policy as Policy & CelGlobParams).celGlobParams : [];
}

// A policy's CEL rules, or why it has none that the API server can run.
export function failSafeRules(policy: Policy): FailSafeRules {
  if (policy.facts.length > 0) return { ok: false, reason: `reads image facts (${policy.facts.join(', ')}) that only the webhook can look up` };
  if (isCustom(policy)) {
    const { decl, rules, containerRules } = policy.custom;
    if ([...rules, ...containerRules].some(readsTime)) return { ok: false, reason: "reads `now` (the time of the review), which the API server's CEL does not offer" };
    return { ok: true, rules: { ...(decl.validations ? { validations: decl.validations } : {}), ...(decl.containerValidations ? { containerValidations: decl.containerValidations } : {}) }, onError: decl.onError ?? 'deny' };
  }
  if (!policy.cel) return { ok: false, reason: 'its rule is not expressed in CEL yet' };
  return { ok: true, rules: policy.cel, onError: 'deny' };
}

// The parameters as the policy's CEL rules read them (globs also as RE2 patterns), or why they cannot be.
export function celParamsOf(policy: Policy, params: object): CelParams {
  const out: Record<string, unknown> = { ...params };
  for (const name of globParamsOf(policy)) {
    const globs = (out[name] ?? []) as readonly string[];
    const patterns = globs.map(globToRegex);
    const bad = globs.find((_, i) => patterns[i] === undefined);
    if (bad !== undefined) return { ok: false, reason: `${name} pattern "${bad}" uses glob syntax the fail-safe does not translate to RE2 (classes, braces, extglobs, negation, escapes)` };
    out[`${name}Patterns`] = patterns;
  }
  return { ok: true, params: out };
}
