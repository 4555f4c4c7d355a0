// Parses and validates a PortcullisConfig document into a Config with defaults filled in.
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import { parseDocument } from 'yaml';
import type { PodSecurityLevel, Policy } from '../engine/types.js';
import type { Config, PinningSettings, PolicySettings } from './types.js';
import { configSchema } from './schema.js';
import { validatePolicies } from '../engine/registry.js';
import { PortcullisError } from '../errors.js';
import { POLICIES } from '../../policies/index.js';
import { registrySchema } from './registry-schema.js';
import { toProblem } from './problems.js';
import type { ConfigProblem } from './problems.js';
import { loadCustomPolicies } from '../custom/load.js';
import { customSettingsProblems } from './custom-settings.js';
import type { CustomPolicy } from '../custom/policy.js';

export type { ConfigProblem } from './problems.js';

export class ConfigError extends PortcullisError<'CONFIG_INVALID'> {
  readonly problems: readonly ConfigProblem[];
  constructor(source: string, problems: readonly ConfigProblem[]) {
    super('CONFIG_INVALID', `${source}: ${problems.map((p) => `${p.path}: ${p.reason}`).join('; ')}`);
    this.problems = problems;
  }
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
const validators = new WeakMap<readonly Policy[], ValidateFunction>();

// The schema validator for configs of this policy list, compiled once per list (which is checked first).
function validatorFor(policies: readonly Policy[]): ValidateFunction {
  let validate = validators.get(policies);
  if (!validate) {
    validatePolicies(policies);
    validate = ajv.compile(configSchema(policies, registrySchema));
    validators.set(policies, validate);
  }
  return validate;
}

type Raw = Record<string, unknown>;
const obj = (v: unknown): Raw => (typeof v === 'object' && v !== null ? (v as Raw) : {});

type Preset = NonNullable<Config['podSecurity']>;

// The parameters a Pod Security Standards profile sets for a policy; undefined when the profile leaves it out.
function profileParams(policy: Policy, level: PodSecurityLevel): object | undefined {
  const profiles = policy.podSecurity;
  if (!profiles) return undefined;
  return level === 'restricted' ? (profiles.restricted ?? profiles.baseline) : profiles.baseline;
}

// A policy's settings: its defaults (a custom policy's: its declaration), then the podSecurity preset, then what the
// file says for it (which wins; exclude.images replaces the default list).
function settingsFor(policy: Policy, raw: Raw, preset: Preset | undefined, excludeImages: readonly string[] = []): PolicySettings {
  const { action, exclude, ...params } = raw;
  const profile = preset ? profileParams(policy, preset.level) : undefined;
  return {
    action: (action as PolicySettings['action'] | undefined) ?? (profile && preset ? preset.action : policy.defaultAction),
    excludeImages: (obj(exclude).images as string[] | undefined) ?? excludeImages,
    params: { ...policy.defaults, ...profile, ...params },
  };
}

// The built-in list followed by the custom policies, checked like the built-ins.
function withCustom(catalog: readonly Policy[], custom: readonly CustomPolicy[]): readonly Policy[] {
  const all = [...catalog, ...custom];
  validatePolicies(all);
  return all;
}

function presetOf(raw: Raw): Preset | undefined {
  if (raw.level === undefined) return undefined;
  return { level: raw.level as PodSecurityLevel, action: (raw.action as Preset['action'] | undefined) ?? 'deny' };
}

// Problems the schema cannot see, from each enabled policy's own parameter check.
function paramProblems(catalog: readonly Policy[], policies: Record<string, PolicySettings>): ConfigProblem[] {
  return catalog.flatMap((policy) => {
    const settings = policies[policy.id];
    if (!settings || settings.action === 'off' || !policy.validateParams) return [];
    return policy.validateParams(settings.params).map((reason) => ({ path: `/policies/${policy.id}`, reason }));
  });
}

function pinningFrom(raw: Raw): PinningSettings {
  const exclude = obj(raw.exclude);
  return {
    enabled: (raw.enabled as PinningSettings['enabled'] | undefined) ?? 'auto',
    required: raw.required === true,
    excludeNamespaces: (exclude.namespaces as string[] | undefined) ?? [],
    excludeImages: (exclude.images as string[] | undefined) ?? [],
  };
}

// Validates a parsed document against this policy list (default: the built-ins) and fills in defaults;
// throws ConfigError listing every problem.
export function configFromObject(doc: unknown, source = 'config', catalog: readonly Policy[] = POLICIES, baseDir?: string): Config {
  const validate = validatorFor(catalog);
  if (!validate(doc)) throw new ConfigError(source, (validate.errors ?? []).map((e) => toProblem(e)));
  const root = obj(doc);
  const raw = obj(root.policies);
  const registry = obj(root.registry);
  const preset = presetOf(obj(root.podSecurity));
  const custom = loadCustomPolicies(obj(root.customPolicies), catalog.map((p) => p.id), baseDir);
  if (custom.problems.length > 0) throw new ConfigError(source, custom.problems);
  const unknown = customSettingsProblems(raw, catalog, custom.policies);
  if (unknown.length > 0) throw new ConfigError(source, unknown);
  const policies = Object.fromEntries([
    ...catalog.map((p) => [p.id, settingsFor(p, obj(raw[p.id]), preset)]),
    ...custom.policies.map((p) => [p.id, settingsFor(p, obj(raw[p.id]), undefined, p.custom.decl.exclude?.images)]),
  ]);
  const problems = paramProblems(catalog, policies);
  if (problems.length > 0) throw new ConfigError(source, problems);
  return {
    mode: (root.mode as Config['mode'] | undefined) ?? 'enforce',
    registry: { ...registry, enabled: registry.enabled !== false },
    policies,
    ...(preset ? { podSecurity: preset } : {}),
    catalog: custom.policies.length > 0 ? withCustom(catalog, custom.policies) : catalog,
    excludeNamespaces: (obj(root.exclude).namespaces as string[] | undefined) ?? ['kube-system'],
    auditNamespaces: (obj(root.audit).namespaces as string[] | undefined) ?? [],
    pinning: pinningFrom(obj(root.pinning)),
    customPolicyDirectories: custom.directories,
  };
}

// Parses YAML text (one document) into a Config; syntax errors are reported with their line.
// Relative customPolicies.directories are read from baseDir (the config file's folder).
export function parseConfig(text: string, source = 'config', catalog: readonly Policy[] = POLICIES, baseDir?: string): Config {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? '?'}`, reason: e.message.split('\n')[0] ?? e.code })),
    );
  }
  return configFromObject(doc.toJS(), source, catalog, baseDir);
}
