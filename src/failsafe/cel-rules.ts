// The CEL rules of a policy as a fail-safe sees them: a custom policy's declaration, a built-in's `cel`, or why
// the policy cannot run inside the API server.
import type { CelRules, Policy } from '../engine/types.js';
import { readsTime } from '../custom/policy.js';
import type { CustomPolicy } from '../custom/policy.js';

export type FailSafeRules = { readonly ok: true; readonly rules: CelRules; readonly onError: 'deny' | 'allow' } | { readonly ok: false; readonly reason: string };

function isCustom(policy: Policy): policy is CustomPolicy {
  return 'custom' in policy;
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
