// Flag parsing shared by the commands: node's parseArgs, --help, and a usage error instead of a stack trace.
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

// Parses a command's flags; returns the exit code instead when it printed --help (0) or a usage error (2).
export function parseCommand<T extends Options & { help: { type: 'boolean' } }>(argv: string[], options: T, usage: string, allowPositionals = false) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    process.stderr.write(`portcullis: ${(err as Error).message}\n${usage}\n`);
    return 2;
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  return parsed;
}
