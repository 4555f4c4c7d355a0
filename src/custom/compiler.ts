// The CEL compiler for custom policies, loaded on demand: a config without custom policies never loads CEL
// (@bufbuild/cel and its tables cost the webhook ~10 MB of RSS).
import type { CustomPolicy } from './policy.js';
import type { CustomPolicyDecl } from './types.js';
import { PortcullisError } from '../errors.js';

/** Where a bad expression is: /customPolicies/<id>/validations/0/expression, and the column. */
export interface CustomPolicyProblem {
  readonly path: string;
  readonly reason: string;
}

export class CustomPolicyError extends PortcullisError<'CUSTOM_POLICY_INVALID'> {
  readonly problems: readonly CustomPolicyProblem[];
  constructor(problems: readonly CustomPolicyProblem[]) {
    super('CUSTOM_POLICY_INVALID', problems.map((p) => `${p.path}: ${p.reason}`).join('; '));
    this.problems = problems;
  }
}

/** Thrown when a config declares custom policies before loadCelCompiler() has run (see withCelCompiler). */
export class CelCompilerNotLoaded extends PortcullisError<'CEL_COMPILER_NOT_LOADED'> {
  constructor() {
    super('CEL_COMPILER_NOT_LOADED', 'expected the CEL compiler to be loaded (await loadCelCompiler()) before compiling a custom policy, got none');
  }
}

type Compile = (decl: CustomPolicyDecl) => CustomPolicy;
let compile: Compile | undefined;

/** Called by policy.ts when it loads: from then on custom policies compile synchronously. */
export function provideCelCompiler(c: Compile): void {
  compile = c;
}

/** Loads the CEL compiler (policy.ts and @bufbuild/cel) once. */
export async function loadCelCompiler(): Promise<void> {
  if (!compile) await import('./policy.js');
}

// Compiles a declaration; throws CelCompilerNotLoaded when CEL has not been loaded.
export function compileDecl(decl: CustomPolicyDecl): CustomPolicy {
  if (!compile) throw new CelCompilerNotLoaded();
  return compile(decl);
}

// Runs a synchronous config load, loading the CEL compiler first if it turns out to need it (once per process).
export async function withCelCompiler<T>(load: () => T): Promise<T> {
  try {
    return load();
  } catch (err) {
    if (!(err instanceof CelCompilerNotLoaded)) throw err;
    await loadCelCompiler();
    return load();
  }
}
