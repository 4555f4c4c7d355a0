// Flag parsing shared by the commands: node's parseArgs with a usage error instead of a stack trace.
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  readonly code = 'USAGE' as const;
}

export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

// Reports a usage error on stderr and returns exit code 2.
export function usageFailure(err: unknown, usage: string): number {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`portcullis: ${err.message}\n${usage}\n`);
  return 2;
}
