// What `audit` and `scan` share: config overrides from flags, the runtime, and config errors as exit status 2.
import { POLICIES } from '../../policies/index.js';
import type { Logger } from 'pino';
import { ConfigError } from '../config/load.js';
import { parsePolicyAction, parseSet, sourceWith } from '../config/overrides.js';
import type { ConfigOverride } from '../config/overrides.js';
import { createRuntime } from './runtime.js';
import type { ExceptionStore } from '../exceptions/store.js';
import type { Runtime } from './runtime.js';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml', 'sarif', 'junit'] as const;

/** Flags both commands take, with the same meaning. */
export const CONFIG_FLAGS = {
  config: { type: 'string' },
  set: { type: 'string', multiple: true },
  output: { type: 'string', short: 'o', default: 'table' },
  'no-color': { type: 'boolean', default: false },
} as const;

/** Their --help lines. */
export const CONFIG_USAGE = `  --config FILE         PortcullisConfig YAML (default: the built-in config)
  --set ID.KEY=VALUE    override a policy's action or parameter (VALUE is YAML), or a config key (mode=audit,
                        exclude.namespaces=[a,b]); repeatable; validated like the config file
  --policy ID=ACTION    a policy's action: deny, warn, audit or off; repeatable
  -o, --output FORMAT   table (default; coloured on a terminal unless NO_COLOR or --no-color), json or yaml,
                        sarif (SARIF 2.1.0) or junit (JUnit XML)`;

export interface RuntimeFlags {
  readonly config?: string | undefined;
  readonly set?: readonly string[] | undefined;
  /** `--policy ID=ACTION` values (scan's bare `--policy ID` is its preview selection, not an override) */
  readonly policyActions?: readonly string[];
  readonly offline: boolean;
  /** PolicyExceptions read from --exceptions files */
  readonly exceptions?: ExceptionStore | undefined;
}

function printConfigError(err: ConfigError, label: string): number {
  for (const p of err.problems) process.stderr.write(`portcullis: ${label}: ${p.path}: ${p.reason}\n`);
  return 2;
}

// The runtime for these flags, or exit status 2 after printing every config or override problem.
export async function openRuntime(flags: RuntimeFlags, logger: Logger): Promise<Runtime | number> {
  let overrides: ConfigOverride[];
  try {
    overrides = [...(flags.set ?? []).map(parseSet), ...(flags.policyActions ?? []).map(parsePolicyAction)];
  } catch (err) {
    if (err instanceof ConfigError) return printConfigError(err, err.message.split(':')[0] ?? 'flag');
    throw err;
  }
  try {
    return await createRuntime({ configPath: flags.config, overrides, logger, watch: false, offline: flags.offline, policies: POLICIES, ...(flags.exceptions ? { exceptions: flags.exceptions } : {}) });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const label = sourceWith(`config ${flags.config ?? '(built-in)'}`, overrides);
    return printConfigError(err, label);
  }
}
