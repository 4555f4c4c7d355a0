// The custom policies a config declares: inline under customPolicies.policies and as YAML files (one policy per
// document) in customPolicies.directories; each validated and its CEL compiled once.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseAllDocuments } from 'yaml';
import { compileCustomPolicy, CustomPolicyError } from './policy.js';
import type { CustomPolicy, CustomPolicyProblem } from './policy.js';
import { CUSTOM_POLICY_SCHEMA } from './schema.js';
import type { CustomPolicyDecl } from './types.js';

const validate = new Ajv2020({ allErrors: true, strict: false }).compile(CUSTOM_POLICY_SCHEMA);

interface Located {
  readonly decl: unknown;
  readonly path: string;
}

// Every policy document in the directory's .yaml/.yml files, in file-name order.
function filesIn(dir: string, problems: CustomPolicyProblem[]): Located[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort();
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
      return value === null ? [] : [{ decl: value, path: `${file} document ${i}` }];
    });
  });
}

// Compiles the section's policies (directories relative to baseDir, the config file's folder); problems name the
// policy, the rule and the column.
export function loadCustomPolicies(section: { policies?: unknown[]; directories?: string[] }, taken: readonly string[], baseDir = process.cwd()): { policies: CustomPolicy[]; problems: CustomPolicyProblem[] } {
  const problems: CustomPolicyProblem[] = [];
  const located: Located[] = [
    ...(section.policies ?? []).map((decl, i) => ({ decl, path: `/customPolicies/policies/${i}` })),
    ...(section.directories ?? []).flatMap((dir) => filesIn(resolve(baseDir, dir), problems)),
  ];
  const seen = new Set(taken);
  const policies: CustomPolicy[] = [];
  for (const { decl, path } of located) {
    if (!validate(decl)) {
      for (const e of validate.errors ?? []) problems.push({ path: `${path}${e.instancePath}`, reason: e.message ?? e.keyword });
      continue;
    }
    const d = decl as CustomPolicyDecl;
    if (seen.has(d.id)) {
      problems.push({ path: `${path}/id`, reason: `expected a policy id not already taken, got "${d.id}"` });
      continue;
    }
    seen.add(d.id);
    try {
      policies.push(compileCustomPolicy(d));
    } catch (err) {
      if (!(err instanceof CustomPolicyError)) throw err;
      problems.push(...err.problems);
    }
  }
  return { policies, problems };
}
