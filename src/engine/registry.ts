// Checks the policy list the engine receives (policies/index.ts for the built-ins); imports no policy.
import { PortcullisError } from '../errors.js';
import type { Policy } from './types.js';

export class PolicyListError extends PortcullisError<'POLICY_LIST_INVALID'> {
  constructor(message: string) {
    super('POLICY_LIST_INVALID', message);
  }
}

const ID = /^[a-z][a-z0-9-]{0,62}$/;
const RESERVED_PARAMS = ['action', 'exclude'];
const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'];
const CATEGORIES = ['Pod Security', 'Supply Chain', 'Best Practices'];

// Checks one policy's metadata: a title, a one-sentence description, a known severity and category.
function checkMetadata(policy: Policy): void {
  if (!policy.title.trim()) throw new PolicyListError(`${policy.id}: expected a title, got none`);
  if (!/^[A-Z`].*\.$/s.test(policy.description)) throw new PolicyListError(`${policy.id}: expected a description sentence, got "${policy.description}"`);
  if (!SEVERITIES.includes(policy.severity)) throw new PolicyListError(`${policy.id}: expected a severity (${SEVERITIES.join(', ')}), got "${String(policy.severity)}"`);
  if (!CATEGORIES.includes(policy.category)) throw new PolicyListError(`${policy.id}: expected a category (${CATEGORIES.join(', ')}), got "${String(policy.category)}"`);
}

// Checks a policy list: unique well-formed ids, metadata, defaults for every parameter, no reserved parameter names.
export function validatePolicies(policies: readonly Policy[]): void {
  const seen = new Set<string>();
  for (const policy of policies) {
    if (!ID.test(policy.id)) throw new PolicyListError(`policy id: expected lowercase letters, digits and dashes, got "${policy.id}"`);
    if (seen.has(policy.id)) throw new PolicyListError(`policy id: expected unique ids, got "${policy.id}" twice`);
    seen.add(policy.id);
    checkMetadata(policy);
    if (!policy.check && !policy.checkContainer) throw new PolicyListError(`${policy.id}: expected check or checkContainer, got neither`);
    const params = Object.keys(policy.paramsSchema);
    const defaults = Object.keys(policy.defaults);
    for (const name of params) {
      if (RESERVED_PARAMS.includes(name)) throw new PolicyListError(`${policy.id}: parameter "${name}" is reserved`);
      if (!defaults.includes(name)) throw new PolicyListError(`${policy.id}: expected a default for parameter "${name}", got none`);
    }
    for (const name of defaults) {
      if (!params.includes(name)) throw new PolicyListError(`${policy.id}: default "${name}" has no schema`);
    }
  }
}
