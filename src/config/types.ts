// The validated, defaulted configuration the engine and server read.
import type { Action, Mode, PodSecurityLevel, Policy } from '../engine/types.js';

export interface PolicySettings {
  readonly action: Action;
  /** image globs this policy skips */
  readonly excludeImages: readonly string[];
  /** the policy's parameters, defaults filled in */
  readonly params: Readonly<Record<string, unknown>>;
}

/** Digest pinning of Pods' images by the mutating webhook (/mutate). */
export interface PinningSettings {
  /** auto: on when the registry is enabled and an active policy looks up image facts or signatures */
  readonly enabled: boolean | 'auto';
  /** refuse, at /validate, a Pod whose images were not pinned (the mutating webhook was skipped or failed open) */
  readonly required: boolean;
  readonly excludeNamespaces: readonly string[];
  /** image globs never pinned */
  readonly excludeImages: readonly string[];
}

export interface Config {
  readonly mode: Mode;
  /** the raw `registry:` section; the images module resolves its defaults */
  readonly registry: Readonly<Record<string, unknown>> & { readonly enabled: boolean };
  readonly policies: Readonly<Record<string, PolicySettings>>;
  /** the `podSecurity` preset, when set: the profile whose policies it turned on */
  readonly podSecurity?: { readonly level: PodSecurityLevel; readonly action: Exclude<Action, 'off'> };
  /** the policy list this config was validated against, which the engine runs */
  readonly catalog: readonly Policy[];
  readonly excludeNamespaces: readonly string[];
  /** namespaces decided in audit mode whatever the global mode */
  readonly auditNamespaces: readonly string[];
  readonly pinning: PinningSettings;
  /** customPolicies.directories, resolved: the server watches them and reloads on a change */
  readonly customPolicyDirectories?: readonly string[];
}
