// Compiles a CEL expression once (parse, check, generate its function) and runs it within its budget.
import { celEnv, celFunc, CelScalar, isCelError, parse, plan } from '@bufbuild/cel';
import type { CelEnv, CelResult, CelType, CelValue } from '@bufbuild/cel';
import { CACHED_RE2, KUBERNETES_LIBRARY } from './cel-library.js';
import { checkExpression } from './cel-check.js';
import type { CelProblem } from './cel-check.js';
import { budgetExceeded, BudgetExceeded, resetBudget } from './cel-budget.js';
import { compileExpression } from './cel-eval.js';
import { PortcullisError } from '../errors.js';

/** The variables of a policy-level rule (those a ValidatingAdmissionPolicy sees, plus the pod spec and the review's time). */
export const POD_VARIABLES = ['object', 'oldObject', 'request', 'params', 'pod', 'now'] as const;
/** The variables of a per-container rule. */
export const CONTAINER_VARIABLES = [...POD_VARIABLES, 'container', 'image'] as const;

/** An environment and how to run code inside @bufbuild/cel's evaluation context (timestamps and durations need it). */
interface Env {
  readonly cel: CelEnv;
  inContext(run: () => CelResult): CelResult;
}

// The function the context entry calls: runs what inContext was given (not callable from CEL: its name has an @).
const ENTRY = '@portcullis.enter';
let pending: (() => CelResult) | undefined;
let entered: CelResult = null;
const entry = celFunc(ENTRY, [], CelScalar.BOOL, () => {
  entered = pending!();
  return true;
});

const NO_BINDINGS = {};
const envs = new Map<string, Env>();
// The environment declaring these variables (all dyn), with the Kubernetes library.
function envFor(variables: readonly string[]): Env {
  const key = variables.join(',');
  let env = envs.get(key);
  if (!env) {
    const cel = celEnv({ variables: Object.fromEntries(variables.map((v) => [v, CelScalar.DYN])), funcs: [...KUBERNETES_LIBRARY, entry], re2: CACHED_RE2 });
    const call = parse('enter()');
    if (call.expr?.exprKind.case === 'callExpr') call.expr.exprKind.value.function = ENTRY;
    const enter = plan(cel, call);
    env = {
      cel,
      inContext(run) {
        pending = run;
        try {
          const ok = enter(NO_BINDINGS);
          return isCelError(ok) ? ok : entered;
        } finally {
          pending = undefined;
          entered = null;
        }
      },
    };
    envs.set(key, env);
  }
  return env;
}

const clock = celEnv({ variables: { t: CelScalar.STRING } });
const timestampOf = plan(clock, parse('timestamp(t)'));
/** A moment as a CEL timestamp (the `now` variable). */
export function celTimestamp(ms: number): CelValue {
  const t = timestampOf({ t: new Date(ms).toISOString() });
  if (isCelError(t)) throw t;
  return t;
}

export type CelOutcome = { readonly ok: true; readonly value: CelValue } | { readonly ok: false; readonly error: string };
const PASSED: CelOutcome = { ok: true, value: true };

export interface CelProgram {
  readonly source: string;
  /** the declared variables the expression reads */
  readonly reads: ReadonlySet<string>;
  run(bindings: Readonly<Record<string, CelValue | undefined>>): CelOutcome;
}

export class CelCompileError extends PortcullisError<'CEL_COMPILE'> {
  readonly problems: readonly CelProblem[];
  constructor(problems: readonly CelProblem[]) {
    super('CEL_COMPILE', problems.map((p) => `column ${p.column}: ${p.reason}`).join('; '));
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
  const problems = checkExpression(env.cel, parsed, result);
  if (problems.length > 0) throw new CelCompileError(problems);
  const compiled = compileExpression(env.cel, parsed.expr!, variables, CACHED_RE2);
  if (!compiled.supported && compiled.iterates) {
    throw new CelCompileError([{ column: 1, reason: 'expected no comprehension (all, exists, map, filter) in an expression with message literals or optional syntax: its run-time cost could not be bounded' }]);
  }
  const planned = compiled.supported ? undefined : plan(env.cel, parsed);
  const evaluate = planned ? (b: Readonly<Record<string, CelValue | undefined>>) => planned(b as never) : compiled.usesTime ? (b: Readonly<Record<string, CelValue | undefined>>) => env.inContext(() => compiled.evaluate(b)) : compiled.evaluate;
  return {
    source,
    reads: compiled.reads,
    run(bindings) {
      resetBudget();
      try {
        const value = evaluate(bindings);
        const stopped = budgetExceeded();
        if (stopped !== undefined) return { ok: false, error: stopped };
        return isCelError(value) ? { ok: false, error: value.message } : value === true ? PASSED : { ok: true, value };
      } catch (err) {
        if (err instanceof BudgetExceeded) return { ok: false, error: err.message };
        return { ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    },
  };
}
