// portcullis test: runs policy test files (resources and expected verdicts) against built-in and custom policies.
import { POLICIES } from '../../policies/index.js';
import { ConfigError } from '../config/load.js';
import { parsePolicyAction, parseSet } from '../config/overrides.js';
import { PolicyTestError, readTestFile, testFilePaths } from '../policytest/files.js';
import { runPolicyTests } from '../policytest/run.js';
import { formatTestJunit, formatTestTable } from '../policytest/format.js';
import { parseCommand } from './flags.js';
import { programName } from './program.js';

const USAGE = `usage: ${programName()} test PATH... [-o table|junit] [--set ID.KEY=VALUE]... [--policy ID=ACTION]...
  runs every PolicyTest document in PATH (files, or directories searched for .yaml/.yml): each case names a
  resource and the verdict expected from each policy (pass, fail with an optional message fragment, skip)
  --set ID.KEY=VALUE    override a built-in or custom policy's setting (or a config key) in every file's config;
                        the files' own policies: settings still win; repeatable
  --policy ID=ACTION    a policy's action (deny, warn, audit, off) in every file's config; repeatable
exit status: 0 every expectation met, 1 a mismatch, 2 bad test file or config`;

const FLAGS = {
  output: { type: 'string', short: 'o', default: 'table' },
  set: { type: 'string', multiple: true },
  policy: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function runTest(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, FLAGS, USAGE, true);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length === 0 || (values.output !== 'table' && values.output !== 'junit')) {
    process.stderr.write(`portcullis: expected PATH... and -o table|junit\n${USAGE}\n`);
    return 2;
  }
  try {
    const overrides = [...(values.set ?? []).map(parseSet), ...(values.policy ?? []).map(parsePolicyAction)];
    const files = testFilePaths(positionals).flatMap(readTestFile);
    if (files.length === 0) throw new PolicyTestError(`${positionals.join(', ')}: expected PolicyTest documents, got none`);
    const results = await runPolicyTests(files, POLICIES, overrides);
    process.stdout.write(values.output === 'junit' ? formatTestJunit(results) : formatTestTable(results));
    return results.every((r) => r.ok) ? 0 : 1;
  } catch (err) {
    if (err instanceof ConfigError || err instanceof PolicyTestError) {
      process.stderr.write(`portcullis: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
