// The `policies.<id>` entries for custom policies: checked once the declarations are read (the schema cannot know
// their ids), each against its declared parameters; an id that is neither built-in nor declared is refused.
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Policy } from '../engine/types.js';
import type { CustomPolicy } from '../custom/policy.js';
import type { Config } from './types.js';
import { policySettingsSchema } from './schema.js';
import { toProblem } from './problems.js';
import type { ConfigProblem } from './problems.js';

const ajv = new Ajv2020({ allErrors: true, strict: false });

// The JSON type of a declared parameter's default (its override must have the same); null: any.
function typeOf(value: unknown): Record<string, unknown> {
  if (value === null) return {};
  if (Array.isArray(value)) return { type: 'array' };
  return { type: typeof value === 'bigint' ? 'number' : typeof value };
}

/** The schema of `policies.<id>` for this custom policy: action, exclude.images and its declared parameters. */
export function customSettingsSchema(policy: CustomPolicy): Record<string, unknown> {
  const params = policy.custom.decl.params ?? {};
  return policySettingsSchema(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, typeOf(v)])));
}

// Problems of the `policies` entries the built-in schema let through: unknown ids and bad custom settings.
export function customSettingsProblems(raw: Readonly<Record<string, unknown>>, catalog: readonly Policy[], custom: readonly CustomPolicy[]): ConfigProblem[] {
  const builtIn = new Set(catalog.map((p) => p.id));
  const declared = new Map(custom.map((p) => [p.id, p]));
  return Object.keys(raw).flatMap((id): ConfigProblem[] => {
    if (builtIn.has(id)) return [];
    const policy = declared.get(id);
    if (!policy) {
      const ids = custom.length > 0 ? custom.map((p) => p.id).join(', ') : 'none declared';
      return [{ path: '/policies', reason: `expected a built-in or declared custom policy id, got "${id}" (custom policies: ${ids})` }];
    }
    const schema = customSettingsSchema(policy);
    const validate = ajv.compile(schema);
    const problems = validate(raw[id]) ? [] : (validate.errors ?? []).map((e) => toProblem(e, `/policies/${id}`));
    ajv.removeSchema(schema); // declarations change on reload: keep no compiled schema of an old one
    return problems;
  });
}

/** The ids of the config's custom policies. */
export function customPolicyIds(config: Config): string[] {
  return config.catalog.filter((p) => 'custom' in p).map((p) => p.id);
}
