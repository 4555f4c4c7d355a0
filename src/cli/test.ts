// portcullis test: runs policy test files (resources and expected verdicts) against built-in and custom policies.
import { POLICIES } from '../../policies/index.js';
import { ConfigError } from '../config/load.js';
import { PolicyTestError, readTestFile, testFilePaths } from '../policytest/files.js';
import { runPolicyTests } from '../policytest/run.js';
import { formatTestJunit, formatTestTable } from '../policytest/format.js';
import { parseCommand } from './flags.js';
import { programName } from './program.js';

const USAGE = `usage: ${programName()} test PATH... [-o table|junit]
  runs every PolicyTest document in PATH (files, or directories searched for .yaml/.yml): each case names a
  resource and the verdict expected from each policy (pass, fail with an optional message fragment, skip)
exit status: 0 every expectation met, 1 a mismatch, 2 bad test file or config`;

const FLAGS = {
  output: { type: 'string', short: 'o', default: 'table' },
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
    const files = testFilePaths(positionals).flatMap(readTestFile);
    if (files.length === 0) throw new PolicyTestError(`${positionals.join(', ')}: expected PolicyTest documents, got none`);
    const results = await runPolicyTests(files, POLICIES);
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
