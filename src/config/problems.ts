// A config problem (where, and what is wrong) and its reading of an ajv schema error.
import type { ErrorObject } from 'ajv';

export interface ConfigProblem {
  readonly path: string;
  readonly reason: string;
}

// One schema error as a problem; `prefix` goes before its instance path (a section validated on its own).
export function toProblem(err: ErrorObject, prefix = ''): ConfigProblem {
  const at = `${prefix}${err.instancePath}`;
  const path = at === '' ? '/' : at;
  if (err.keyword === 'additionalProperties') {
    return { path, reason: `unknown key "${String((err.params as { additionalProperty: string }).additionalProperty)}"` };
  }
  if (err.keyword === 'enum') {
    return { path, reason: `expected one of ${JSON.stringify((err.params as { allowedValues: unknown[] }).allowedValues)}` };
  }
  return { path, reason: err.message ?? err.keyword };
}
