// The policy registry: every built-in policy, validated once at start.
import type { Policy } from './types.js';
import { requireNonRootUser } from '../../policies/require-non-root-user/policy.js';
import { requireDropAllCapabilities } from '../../policies/require-drop-all-capabilities/policy.js';
import { disallowLatestTag } from '../../policies/disallow-latest-tag/policy.js';
import { requireReadOnlyRootFilesystem } from '../../policies/require-read-only-root-filesystem/policy.js';
import { requireSignedImages } from '../../policies/require-signed-images/policy.js';
import { requireVulnerabilityScan } from '../../policies/require-vulnerability-scan/policy.js';
import { requireProvenance } from '../../policies/require-provenance/policy.js';

export class RegistryError extends Error {
  readonly code = 'POLICY_REGISTRY_INVALID' as const;
  constructor(message: string) {
    super(message);
    this.name = 'PolicyRegistryError';
  }
}

const ID = /^[a-z][a-z0-9-]{0,62}$/;
const RESERVED_PARAMS = ['action', 'exclude'];

// Checks a policy list: unique well-formed ids, defaults for every parameter, no reserved parameter names.
export function validatePolicies(policies: readonly Policy[]): void {
  const seen = new Set<string>();
  for (const policy of policies) {
    if (!ID.test(policy.id)) throw new RegistryError(`policy id: expected lowercase letters, digits and dashes, got "${policy.id}"`);
    if (seen.has(policy.id)) throw new RegistryError(`policy id: expected unique ids, got "${policy.id}" twice`);
    seen.add(policy.id);
    const params = Object.keys(policy.paramsSchema);
    const defaults = Object.keys(policy.defaults);
    for (const name of params) {
      if (RESERVED_PARAMS.includes(name)) throw new RegistryError(`${policy.id}: parameter "${name}" is reserved`);
      if (!defaults.includes(name)) throw new RegistryError(`${policy.id}: expected a default for parameter "${name}", got none`);
    }
    for (const name of defaults) {
      if (!params.includes(name)) throw new RegistryError(`${policy.id}: default "${name}" has no schema`);
    }
  }
}

export const POLICIES: readonly Policy[] = [
  requireNonRootUser,
  requireDropAllCapabilities,
  disallowLatestTag,
  requireReadOnlyRootFilesystem,
  requireSignedImages,
  requireVulnerabilityScan,
  requireProvenance,
] as unknown as readonly Policy[];

validatePolicies(POLICIES);

export const POLICY_IDS: readonly string[] = POLICIES.map((p) => p.id);

export function policyById(id: string): Policy | undefined {
  return POLICIES.find((p) => p.id === id);
}
