// The one list of built-in policies. Adding a policy is one folder under policies/ plus one line here.
import type { Policy } from '../src/engine/types.js';
import { requireNonRootUser } from './require-non-root-user/policy.js';
import { requireDropAllCapabilities } from './require-drop-all-capabilities/policy.js';
import { disallowLatestTag } from './disallow-latest-tag/policy.js';
import { requireReadOnlyRootFilesystem } from './require-read-only-root-filesystem/policy.js';
import { requireSignedImages } from './require-signed-images/policy.js';

const list = [
  requireNonRootUser,
  requireDropAllCapabilities,
  disallowLatestTag,
  requireReadOnlyRootFilesystem,
  requireSignedImages,
];

/** Every built-in policy, in the order their findings are reported. */
export const POLICIES: readonly Policy[] = list as unknown as readonly Policy[];

export const POLICY_IDS: readonly string[] = POLICIES.map((p) => p.id);
