// Compiles a CEL expression once (parse, check, plan) and runs it within the allocation budget.
import { celEnv, CelScalar, isCelError, parse, plan } from '@bufbuild/cel';
import type { CelEnv, CelInput, CelType, CelValue } from '@bufbuild/cel';
import { CACHED_RE2, KUBERNETES_LIBRARY } from './cel-library.js';
import { checkExpression } from './cel-check.js';
import type { CelProblem } from './cel-check.js';
import { resetBudget } from './cel-budget.js';

/** The variables of a policy-level rule (those a ValidatingAdmissionPolicy sees, plus the pod spec). */
export const POD_VARIABLES = ['object', 'oldObject', 'request', 'params', 'pod'] as const;
/** The variables of a per-container rule. */
export const CONTAINER_VARIABLES = [...POD_VARIABLES, 'container', 'image'] as const;

const envs = new Map<string, CelEnv>();
// The environment declaring these variables (all dyn), with the Kubernetes library.
function envFor(variables: readonly string[]): CelEnv {
  const key = variables.join(',');
  let env = envs.get(key);
  if (!env) {
    env = celEnv({ variables: Object.fromEntries(variables.map((v) => [v, CelScalar.DYN])), funcs: [...KUBERNETES_LIBRARY], re2: CACHED_RE2 });
    envs.set(key, env);
  }
  return env;
}

export type CelOutcome = { readonly ok: true; readonly value: CelValue } | { readonly ok: false; readonly error: string };

export interface CelProgram {
  readonly source: string;
  run(bindings: Readonly<Record<string, CelInput>>): CelOutcome;
}

export class CelCompileError extends Error {
  readonly problems: readonly CelProblem[];
  constructor(problems: readonly CelProblem[]) {
    super(problems.map((p) => `column ${p.column}: ${p.reason}`).join('; '));
    this.problems = problems;
  }
}

const MAX_SOURCE = 10_000;

// Parses, checks and plans an expression of this result type over these variables; throws CelCompileError.
export function compileCel(source: string, variables: readonly string[], result: CelType): CelProgram {
  if (source.length > MAX_SOURCE) throw new CelCompileError([{ column: 1, reason: `expected at most ${MAX_SOURCE} characters, got ${source.length}` }]);
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(source);
  } catch (err) {
    const location = (err as { location?: { start?: { column?: number } } }).location;
    const reason = err instanceof Error ? err.message.replace(/^<input>:\d+:\d+: /, '') : String(err);
    throw new CelCompileError([{ column: location?.start?.column ?? 1, reason: `syntax error: ${reason}` }]);
  }
  const env = envFor(variables);
  const problems = checkExpression(env, parsed, result);
  if (problems.length > 0) throw new CelCompileError(problems);
  const evaluate = plan(env, parsed);
  return {
    source,
    run(bindings) {
      resetBudget();
      try {
        const value = evaluate(bindings as never);
        return isCelError(value) ? { ok: false, error: value.message } : { ok: true, value };
      } catch (err) {
        return { ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    },
  };
}
