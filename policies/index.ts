// The one list of built-in policies. Adding a policy is one folder under policies/ plus one line here.
import type { Policy } from '../src/engine/types.js';
import { requireNonRootUser } from './require-non-root-user/policy.js';
import { requireDropAllCapabilities } from './require-drop-all-capabilities/policy.js';
import { disallowLatestTag } from './disallow-latest-tag/policy.js';
import { requireReadOnlyRootFilesystem } from './require-read-only-root-filesystem/policy.js';
import { requireSignedImages } from './require-signed-images/policy.js';
import { disallowHostProcess } from './disallow-host-process/policy.js';
import { disallowHostNamespaces } from './disallow-host-namespaces/policy.js';
import { disallowPrivileged } from './disallow-privileged/policy.js';
import { restrictCapabilities } from './restrict-capabilities/policy.js';
import { disallowHostPath } from './disallow-host-path/policy.js';
import { disallowHostPorts } from './disallow-host-ports/policy.js';
import { restrictAppArmor } from './restrict-apparmor/policy.js';
import { restrictSELinux } from './restrict-selinux/policy.js';
import { restrictProcMount } from './restrict-proc-mount/policy.js';
import { restrictSeccomp } from './restrict-seccomp/policy.js';
import { restrictSysctls } from './restrict-sysctls/policy.js';
import { disallowHostProbes } from './disallow-host-probes/policy.js';
import { restrictVolumeTypes } from './restrict-volume-types/policy.js';
import { disallowPrivilegeEscalation } from './disallow-privilege-escalation/policy.js';
import { requireResourceLimits } from './require-resource-limits/policy.js';
import { requireProbes } from './require-probes/policy.js';
import { restrictImageRegistries } from './restrict-image-registries/policy.js';
import { disallowSecretsInEnv } from './disallow-secrets-in-env/policy.js';
import { limitImageSize } from './limit-image-size/policy.js';
import { requireVulnerabilityScan } from './require-vulnerability-scan/policy.js';
import { requireProvenance } from './require-provenance/policy.js';

const list = [
  requireNonRootUser,
  requireDropAllCapabilities,
  disallowLatestTag,
  requireReadOnlyRootFilesystem,
  requireSignedImages,
  disallowHostProcess,
  disallowHostNamespaces,
  disallowPrivileged,
  restrictCapabilities,
  disallowHostPath,
  disallowHostPorts,
  restrictAppArmor,
  restrictSELinux,
  restrictProcMount,
  restrictSeccomp,
  restrictSysctls,
  disallowHostProbes,
  restrictVolumeTypes,
  disallowPrivilegeEscalation,
  requireResourceLimits,
  requireProbes,
  restrictImageRegistries,
  disallowSecretsInEnv,
  limitImageSize,
  requireVulnerabilityScan,
  requireProvenance,
];

/** Every built-in policy, in the order their findings are reported. */
export const POLICIES: readonly Policy[] = list as unknown as readonly Policy[];

export const POLICY_IDS: readonly string[] = POLICIES.map((p) => p.id);
