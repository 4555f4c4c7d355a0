// Parses and validates a PortcullisConfig document into a Config with defaults filled in.
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import type { Policy } from '../engine/types.js';
import type { Config, PinningSettings, PolicySettings } from './types.js';
import { configSchema } from './schema.js';
import { POLICIES } from '../engine/registry.js';
import { registrySchema } from './registry-schema.js';

export interface ConfigProblem {
  readonly path: string;
  readonly reason: string;
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID' as const;
  readonly problems: readonly ConfigProblem[];
  constructor(source: string, problems: readonly ConfigProblem[]) {
    super(`${source}: ${problems.map((p) => `${p.path}: ${p.reason}`).join('; ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
const validate = ajv.compile(configSchema(POLICIES, registrySchema));

function toProblem(err: ErrorObject): ConfigProblem {
  const path = err.instancePath === '' ? '/' : err.instancePath;
  if (err.keyword === 'additionalProperties') {
    return { path, reason: `unknown key "${String((err.params as { additionalProperty: string }).additionalProperty)}"` };
  }
  if (err.keyword === 'enum') {
    return { path, reason: `expected one of ${JSON.stringify((err.params as { allowedValues: unknown[] }).allowedValues)}` };
  }
  return { path, reason: err.message ?? err.keyword };
}

type Raw = Record<string, unknown>;
const obj = (v: unknown): Raw => (typeof v === 'object' && v !== null ? (v as Raw) : {});

function settingsFor(policy: Policy, raw: Raw): PolicySettings {
  const { action, exclude, ...params } = raw;
  return {
    action: (action as PolicySettings['action'] | undefined) ?? policy.defaultAction,
    excludeImages: (obj(exclude).images as string[] | undefined) ?? [],
    params: { ...policy.defaults, ...params },
  };
}

// Problems the schema cannot see, from each enabled policy's own parameter check.
function paramProblems(policies: Record<string, PolicySettings>): ConfigProblem[] {
  return POLICIES.flatMap((policy) => {
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

// Validates a parsed document and fills in defaults; throws ConfigError listing every problem.
export function configFromObject(doc: unknown, source = 'config'): Config {
  if (!validate(doc)) throw new ConfigError(source, (validate.errors ?? []).map(toProblem));
  const root = obj(doc);
  const raw = obj(root.policies);
  const registry = obj(root.registry);
  const policies = Object.fromEntries(POLICIES.map((p) => [p.id, settingsFor(p, obj(raw[p.id]))]));
  const problems = paramProblems(policies);
  if (problems.length > 0) throw new ConfigError(source, problems);
  return {
    mode: (root.mode as Config['mode'] | undefined) ?? 'enforce',
    registry: { ...registry, enabled: registry.enabled !== false },
    policies,
    excludeNamespaces: (obj(root.exclude).namespaces as string[] | undefined) ?? ['kube-system'],
    auditNamespaces: (obj(root.audit).namespaces as string[] | undefined) ?? [],
    pinning: pinningFrom(obj(root.pinning)),
  };
}

// Parses YAML text (one document) into a Config; syntax errors are reported with their line.
export function parseConfig(text: string, source = 'config'): Config {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? '?'}`, reason: e.message.split('\n')[0] ?? e.code })),
    );
  }
  return configFromObject(doc.toJS(), source);
}
