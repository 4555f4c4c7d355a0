// The custom policies a config declares: inline under customPolicies.policies and as YAML files (one policy per
// document) in customPolicies.directories; each validated and its CEL compiled once.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseAllDocuments } from 'yaml';
import { compileDecl, CustomPolicyError } from './compiler.js';
import type { CustomPolicyProblem } from './compiler.js';
import type { CustomPolicy } from './policy.js';
import { CUSTOM_POLICY_SCHEMA } from './schema.js';
import type { CustomPolicyDecl } from './types.js';

const validate = new Ajv2020({ allErrors: true, strict: false }).compile(CUSTOM_POLICY_SCHEMA);

interface Located {
  readonly decl: unknown;
  /** /customPolicies/policies/<i>, or `<file> document <i>` */
  readonly path: string;
  /** read from a file in a directory (its problems name the file) */
  readonly file?: true;
}

/** The files of a custom-policy directory that are read: *.yaml and *.yml (not the `..data` links of a ConfigMap). */
export const POLICY_FILE = /\.ya?ml$/;

// Every policy document in the directory's .yaml/.yml files, in file-name order.
function filesIn(dir: string, problems: CustomPolicyProblem[]): Located[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => POLICY_FILE.test(n)).sort();
  } catch (err) {
    problems.push({ path: `/customPolicies/directories/${dir}`, reason: `expected a readable directory, got ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
    return [];
  }
  return names.flatMap((name) => {
    const file = join(dir, name);
    return parseAllDocuments(readFileSync(file, 'utf8')).flatMap((doc, i): Located[] => {
      if (doc.errors.length > 0) {
        problems.push({ path: `${file} document ${i}`, reason: doc.errors[0]!.message.split('\n')[0]! });
        return [];
      }
      const value = doc.toJS() as unknown;
      return value === null ? [] : [{ decl: value, path: `${file} document ${i}`, file: true }];
    });
  });
}

// Compiles the section's policies (directories relative to baseDir, the config file's folder); problems name the
// policy, the rule and the column.
// Why a valid declaration cannot be used: its id is a built-in's or already declared, or a parameter is named like a
// setting (policies.<id>.action and .exclude are the settings, the other keys its parameters).
function declProblems(d: CustomPolicyDecl, path: string, builtIn: ReadonlySet<string>, seen: ReadonlySet<string>): CustomPolicyProblem[] {
  if (builtIn.has(d.id)) return [{ path: `${path}/id`, reason: `expected an id no built-in policy has, got "${d.id}"` }];
  if (seen.has(d.id)) return [{ path: `${path}/id`, reason: `expected a policy id not already declared, got "${d.id}"` }];
  return Object.keys(d.params ?? {})
    .filter((k) => k === 'action' || k === 'exclude')
    .map((k) => ({ path: `${path}/params/${k}`, reason: `expected a parameter name other than action and exclude, got "${k}"` }));
}

export interface LoadedCustomPolicies {
  readonly policies: CustomPolicy[];
  readonly problems: CustomPolicyProblem[];
  /** the directories read, resolved */
  readonly directories: string[];
}

// Compiles the section's policies (directories relative to baseDir, the config file's folder); problems name the
// file, the policy, the rule and the column.
export function loadCustomPolicies(section: { policies?: unknown[]; directories?: string[] }, builtInIds: readonly string[], baseDir = process.cwd()): LoadedCustomPolicies {
  const problems: CustomPolicyProblem[] = [];
  const directories = (section.directories ?? []).map((dir) => resolve(baseDir, dir));
  const located: Located[] = [
    ...(section.policies ?? []).map((decl, i) => ({ decl, path: `/customPolicies/policies/${i}` })),
    ...directories.flatMap((dir) => filesIn(dir, problems)),
  ];
  const builtIn = new Set(builtInIds);
  const seen = new Set<string>();
  const policies: CustomPolicy[] = [];
  for (const { decl, path, file } of located) {
    if (!validate(decl)) {
      for (const e of validate.errors ?? []) problems.push({ path: `${path}${e.instancePath}`, reason: e.message ?? e.keyword });
      continue;
    }
    const d = decl as CustomPolicyDecl;
    const refused = declProblems(d, path, builtIn, seen);
    seen.add(d.id);
    if (refused.length > 0) {
      problems.push(...refused);
      continue;
    }
    try {
      policies.push(compileDecl(d));
    } catch (err) {
      if (!(err instanceof CustomPolicyError)) throw err;
      // inline declarations are named by their /customPolicies/<id>/... path; a file's also by the file
      problems.push(...err.problems.map((p) => (file ? { path: `${path}: ${p.path}`, reason: p.reason } : p)));
    }
  }
  return { policies, problems, directories };
}
